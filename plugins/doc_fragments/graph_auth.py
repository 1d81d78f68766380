# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The connection options of every module. Defined in plugins/module_utils/_graph_module.py (GRAPH_ARGSPEC).
    DOCUMENTATION = r'''
options:
  tenant_id:
    description:
      - Directory (tenant) ID or a verified domain of the Microsoft Entra tenant.
      - Not used with O(managed_identity=true).
      - If not set, the environment variable E(AZURE_TENANT_ID) is used, then E(AZURE_TENANT) (the name the AWX
        built-in Azure credential injects). Empty variables count as unset.
    type: str
  client_id:
    description:
      - Application (client) ID of the app registration the modules act as.
      - Not used with O(managed_identity=true); see O(managed_identity_client_id).
      - If not set, the environment variable E(AZURE_CLIENT_ID) is used.
    type: str
  client_secret:
    description:
      - Client secret of the app registration.
      - If not set, the environment variable E(AZURE_CLIENT_SECRET) is used, then E(AZURE_SECRET).
      - Exactly one kind of credential must be given; O(client_secret), O(client_certificate_path),
        O(federated_token_file) and O(managed_identity) exclude each other.
    type: str
  client_certificate_path:
    description:
      - Path to a certificate credential of the app registration, either a PEM file holding the private key and the
        certificate, or a PFX/PKCS#12 file. The certificate's thumbprint is computed from the file.
      - A file that exists but is empty counts as unset (AWX writes the file even when its field is empty).
      - If not set, the environment variable E(AZURE_CLIENT_CERTIFICATE_PATH) is used.
    type: path
  client_certificate_password:
    description:
      - Password of the private key in O(client_certificate_path), if it is encrypted.
      - If not set, the environment variable E(AZURE_CLIENT_CERTIFICATE_PASSWORD) is used.
    type: str
  managed_identity:
    description:
      - Authenticate as the Azure managed identity of the machine that runs the module (the controller or the
        execution environment), instead of an app registration.
      - Needs msal 1.29 or later.
    type: bool
    default: false
  managed_identity_client_id:
    description:
      - Client ID of a user-assigned managed identity. Without it, the system-assigned identity is used.
    type: str
  federated_token_file:
    description:
      - Workload identity federation. Path to a file holding a token issued by a trusted external identity provider
        (for example a Kubernetes service account token); it is read again for each token request, so rotation works.
      - Needs O(tenant_id) and O(client_id) of the app registration that trusts the issuer.
      - If not set, the environment variable E(AZURE_FEDERATED_TOKEN_FILE) is used.
    type: path
  cloud:
    description:
      - The Microsoft cloud. It chooses the login host, the Graph host and the token scope together.
      - V(public) is login.microsoftonline.com and graph.microsoft.com (GCC moderate uses these too);
        V(usgov) is login.microsoftonline.us and graph.microsoft.us (GCC High);
        V(usgov_dod) is login.microsoftonline.us and dod-graph.microsoft.us;
        V(china) is login.chinacloudapi.cn and microsoftgraph.chinacloudapi.cn (21Vianet).
      - If not set, the environment variable E(AZURE_CLOUD_ENVIRONMENT) is used, where V(AzureCloud),
        V(AzureUSGovernment) and V(AzureChinaCloud) (the names the AWX Azure credential uses) mean V(public), V(usgov)
        and V(china).
    type: str
    choices: [china, public, usgov, usgov_dod]
    default: public
  authority_url:
    description:
      - Overrides the login host of O(cloud). Either a host URL such as V(https://login.microsoftonline.com/), to
        which the tenant is appended, or a full authority URL including the tenant.
      - When set, msal's instance discovery (a call to login.microsoftonline.com) is turned off, so any https host
        works, for example the collection's Graph emulator.
      - If not set, the environment variable E(AZURE_AUTHORITY_HOST) is used.
    type: str
  graph_url:
    description:
      - Overrides the Graph root URL of O(cloud), for example V(https://127.0.0.1:8443) for the emulator. The token
        scope still follows O(cloud).
      - If not set, the environment variable E(INTUNE_GRAPH_URL) is used.
    type: str
  ca_path:
    description:
      - PEM file of the certificate authorities to trust for the login and Graph hosts, instead of the default bundle.
      - It is passed on every request, so it wins over E(REQUESTS_CA_BUNDLE) and E(CURL_CA_BUNDLE).
      - If not set, the environment variable E(REQUESTS_CA_BUNDLE) is used.
    type: path
  timeout:
    description:
      - Seconds to wait for the server on each HTTP request (connect and read).
    type: int
    default: 30
  max_retries:
    description:
      - How many times one request is retried after a throttling or transient answer (so at most O(max_retries) + 1
        attempts). V(0) turns retries off. See the notes for the policy.
    type: int
    default: 5
  retry_max_delay:
    description:
      - Longest single wait, in seconds, between two attempts. The exponential backoff is capped at this value, and
        a C(Retry-After) answer asking for a longer wait fails the task at once instead of waiting.
    type: float
    default: 60
  token_cache:
    description:
      - Keep the access token in a file between the tasks of a run, so a play does not fetch a new token for every
        task. See the notes.
    type: bool
    default: true
  exchange_log:
    description:
      - Path of a file to which every exchange with Graph and the token service is appended as one JSON line (JSON
        Lines), by every task of the run. A line holds the time (UTC), the process, the method, the URL with its
        query, the status, the C(request-id), the duration, and the request and response bodies (for a C($batch),
        its inner requests and answers). Use it to report with evidence a run against a real tenant that behaves
        otherwise than documented; leave it unset otherwise.
      - Masked before anything is written, at any depth of a body - the client secret, the certificate password, client
        assertions, tokens and C(Authorization) values; request headers other than C(client-request-id) are not
        written. C(hardwareIdentifier) and C(productKey) values are cut to their first 6 characters and their length.
        Other values (serial numbers, user and group names) are written as they are, so treat the file as confidential.
      - The file is created with mode 0600 and appended to; its directory must exist.
      - If not set, the environment variable E(INTUNE_GRAPH_EXCHANGE_LOG) is used.
    type: path
requirements:
  - msal >= 1.24 (1.29 or later for O(managed_identity))
  - requests
  - cryptography (for O(client_certificate_path))
notes:
  - "Connection settings: a task option beats C(module_defaults) (use C(group/intune.autopilot.graph) to set them once
    for every module), which beats the environment variables named under each option. Empty environment variables
    count as unset. Tokens use the OAuth 2.0 client credentials flow with the scope C(<graph host>/.default); the app
    needs the Microsoft Graph application permissions listed in each module's notes, with admin consent."
  - "Retry policy: a C(429) answer is retried for every method, waiting what C(Retry-After) asks (seconds or an HTTP
    date) or, when the header is missing, an exponential backoff. C(500), C(502), C(503), C(504), connection errors
    and timeouts are retried for GET, PUT, PATCH and DELETE with exponential backoff and jitter (2 s, 4 s, 8 s... up to
    O(retry_max_delay), each wait a random point in its upper half, or the C(Retry-After) of a C(503)). A POST that
    creates something is retried after C(429) only; after a C(5xx) or a lost connection the module first reads the
    object back by its natural key and returns it if the POST was applied, so nothing is created twice; for
    Entra groups it keeps looking for up to aad_group's C(wait_timeout), because a new group is listed only
    after directory replication. A C($batch) is sent again after a C(5xx) or a lost connection only when every
    request in it is safe to repeat (GET, PUT, PATCH, DELETE, or an action that sets a value such as
    C(assignUserToDevice)); its inner C(429), C(500), C(502), C(503) and C(504) answers follow the same rules. At
    most O(max_retries) retries and 300 seconds of waiting per request. Each retry prints a warning naming the
    request, the reason, the attempt and the wait. A C(401) fetches a new token once. A token request is retried
    under the same policy after a C(429), a C(5xx), the error C(temporarily_unavailable) or a lost connection."
  - "Token cache: with O(token_cache=true) the msal token cache is kept in a file readable only by its owner (mode
    0600, directory 0700) under C($XDG_CACHE_HOME/intune.autopilot/) or C(~/.cache/intune.autopilot/), one file per
    authority, tenant and client. It holds access tokens, never the secret, certificate or password. A corrupt file
    is ignored and replaced."
  - See docs/connection.md in the collection for the same in more detail.
'''
