"""What the person at the laptop should do about each kind of stray credential."""

from __future__ import annotations

REMEDIES: dict[str, str] = {
    "saved_login": "Delete the saved password for this site in the browser's password manager.",
    "sso_cookie": "Sign out of the organisation's site in this browser and clear its cookies.",
    "browser_account": "Remove the organisation account from the browser profile (sign out).",
    "mail_account": "Remove the organisation mailbox from the mail app.",
    "online_account": "Remove the organisation account in Settings > Online Accounts.",
    "work_account": "Disconnect the work or school account in the system settings.",
    "device_join": "Leave the organisation's domain or Entra ID tenant.",
    "stored_credential": "Delete the entry from the system credential store (keychain, "
    "Credential Manager, Passwords and Keys).",
    "certificate": "Delete the organisation's client certificate and its private key.",
    "wifi_profile": "Forget this Wi-Fi network in the Wi-Fi settings.",
    "wifi_8021x": "Forget this Wi-Fi network and its saved 802.1X identity.",
    "vpn_profile": "Delete the VPN profile that points at the organisation.",
    "ssh_key": "Delete this SSH key (and its .pub), or move it off the device.",
    "ssh_config": "Remove the organisation hosts from ~/.ssh/config.",
    "ssh_known_host": "Remove the organisation hosts from ~/.ssh/known_hosts "
    "(ssh-keygen -R <host>).",
    "cloud_cli": "Log out of the cloud CLI and delete its organisation profile.",
    "registry_login": "Log out of the container registry (docker logout <registry>).",
    "kerberos_ticket": "Destroy the Kerberos tickets (kdestroy).",
    "kerberos_keytab": "Delete the keytab file: it holds long-term keys of the organisation.",
    "token_in_file": "Delete the token from this file and revoke it at the organisation.",
    "private_key_in_file": "Delete this private key file, or move it off the device.",
    "password_in_file": "Delete the password from this file and change it at the organisation.",
    "url_credentials_in_file": "Remove the user:password from the URL in this file and change "
    "the password.",
}
# Where the store decides the remedy better than the kind (a saved login outside a browser).
STORE_REMEDIES: dict[str, str] = {
    "netrc": "Delete the organisation host's line from ~/.netrc.",
    "git_credentials": "Delete the organisation host's line from ~/.git-credentials "
    "(or run git credential reject).",
    "firefox": "Delete the saved login in Firefox (Settings > Passwords).",
    "thunderbird": "Remove the organisation account from Thunderbird.",
}
DEFAULT_REMEDY = "Remove this organisation credential from the device."


def remedy_for(kind: str, store: str = "") -> str:
    if kind == "saved_login" and store in STORE_REMEDIES:
        return STORE_REMEDIES[store]
    return REMEDIES.get(kind, DEFAULT_REMEDY)
