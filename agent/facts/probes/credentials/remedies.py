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
    "saved_session": "Delete the saved connection to the organisation's server from this app.",
    "autologon": "Turn off automatic sign-in: delete DefaultPassword and set AutoAdminLogon to 0 "
    "under HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon "
    "(or netplwiz > tick 'Users must enter a user name and password'), then change the "
    "account's password.",
    "unattend_account": "Delete this setup answer file (it keeps an organisation account and "
    "often its password) and change that account's password.",
    "mount_credentials": "Remove the organisation share's line from /etc/fstab and delete its "
    "credentials file, then change the password.",
    "mount_account": "Remove the organisation share's line from /etc/fstab.",
    "password_in_history": "Delete this line from the shell history (history -d <n>, or edit the "
    "file) and change the password it gave.",
    "password_vault": "Move the organisation's password database off this device.",
    "password_export": "Delete this exported password file (it holds passwords in plain text) "
    "and change the organisation passwords in it.",
    "chat_account": "Sign out of the organisation's workspace in this app and remove its account.",
    "cloud_sync_folder": "Stop syncing the organisation's files: unlink the work account in "
    "the OneDrive/Dropbox settings and delete the synced folder.",
}
# Where the store decides the remedy better than the kind (a saved login outside a browser).
STORE_REMEDIES: dict[str, str] = {
    "netrc": "Delete the organisation host's line from ~/.netrc.",
    "git_credentials": "Delete the organisation host's line from ~/.git-credentials "
    "(or run git credential reject).",
    "firefox": "Delete the saved login in Firefox (Settings > Passwords).",
    "thunderbird": "Remove the organisation account from Thunderbird.",
    "filezilla": "Delete the organisation's server from FileZilla's Site Manager and clear "
    "its recent servers (File > Site Manager; Edit > Clear private data).",
    "winscp": "Delete the organisation's saved session in WinSCP (Login dialog > Manage > Delete).",
    "cyberduck": "Delete the organisation's bookmark in Cyberduck and its saved password.",
    "openvpn": "Clear the saved user name and password of this connection in OpenVPN GUI "
    "(right-click its icon > the connection > Clear Saved Passwords).",
    "coreftp": "Delete the organisation's site in CoreFTP's Site Manager.",
    "ftp_navigator": "Delete the organisation's server from FTP Navigator's site list.",
    "pgpass": "Delete the organisation server's line from the PostgreSQL password file.",
    "mysql": "Remove the organisation server's section (and password) from the MySQL option file.",
    "sqldeveloper": "Delete the organisation's connection in SQL Developer (Connections > "
    "Delete Connection).",
    "pidgin": "Remove the organisation's chat account from Pidgin (Accounts > Manage Accounts).",
    "remmina": "Delete the organisation's connection profile in Remmina.",
    "dbeaver": "Delete the organisation's connection in DBeaver (Database Navigator > Delete).",
    "subversion": "Delete the saved Subversion credential for the organisation's repository "
    "(the file under auth/svn.simple).",
    "mremoteng": "Delete the organisation's connections from mRemoteNG.",
    "rdcman": "Remove the organisation's servers and logon credentials from this RDCMan file.",
    "puttycm": "Delete the organisation's connections (and their saved passwords) from "
    "PuTTY Connection Manager's database.",
    "rdp": "Delete this saved Remote Desktop connection file.",
}
DEFAULT_REMEDY = "Remove this organisation credential from the device."


def remedy_for(kind: str, store: str = "") -> str:
    if kind in ("saved_login", "saved_session") and store in STORE_REMEDIES:
        return STORE_REMEDIES[store]
    return REMEDIES.get(kind, DEFAULT_REMEDY)
