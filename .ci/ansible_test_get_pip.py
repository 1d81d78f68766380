# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for ansible-test's get-pip bootstrap script.

ansible-test builds each sanity venv without pip and then downloads ``get-pip-<ver>.py`` from
ci-files.testing.ansible.com, which this machine cannot reach (ansible/ansible#77304). It first
looks in ``~/.ansible/test/cache/get_pip_<X_Y>.py``; ``.ci/test.sh`` copies this file there.

It is run inside the fresh venv with pip-install arguments such as
``pip==24.2 --no-setuptools --no-wheel``: seed pip from the interpreter's ``ensurepip``, then let
that pip install the requested version from PyPI.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import subprocess
import sys


def main():
    args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'])
    subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--upgrade', '--disable-pip-version-check', '-q'] + args)


if __name__ == '__main__':
    main()
