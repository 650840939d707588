"""LaZagne's credential-store modules per OS, each with how far the agent covers it (data)."""

from __future__ import annotations

from dataclasses import dataclass

LAZAGNE = "AlessandroZ/LaZagne @858ff6f (2025-09-18)"
STATUSES = {
    "covered": "read by the finders named",
    "partly": "read in part (the note says what is left)",
    "scan": "no finder of its own: the home content scan reports a password-like value within "
    "1 KiB of an organisation name in the file",
    "not yet": "not read; could hold an organisation credential (the note says why it waits)",
    "out of scope": "cannot hold an organisation credential, or needs memory or SYSTEM access",
}
SCAN = ("files.find_files",)
_NO_ORG = "holds no organisation credential"


@dataclass(frozen=True)
class Entry:
    """One LaZagne module: what it reads, how far the agent covers it and by which finders."""

    module: str
    store: str
    status: str
    finders: tuple[str, ...] = ()
    note: str = ""


def _e(module: str, store: str, status: str, *finders: str, note: str = "") -> Entry:
    return Entry(module, store, status, SCAN if status == "scan" else finders, note)


WINDOWS = (
    _e(
        "browsers/chromium_browsers",
        "User Data\\<profile>\\Login Data of 26 Chromium browsers",
        "covered",
        "browsers.find_chromium",
        note="all 26, and Slimjet and Iridium: Chrome (Beta, Dev, Canary), Chromium, Brave, Edge "
        "(Beta, Dev, Canary), Vivaldi, Opera, Opera GX, 7Star, Amigo, CentBrowser, Chedot, "
        "CocCoc, Comodo Dragon, DCBrowser, Elements, Epic, Kometa, Orbitum, QQBrowser, Sogou, "
        "Sputnik, Torch, Uran, Yandex (its Ya Passman Data too)",
    ),
    _e(
        "browsers/firefox_browsers",
        "logins.json of Firefox and 7 forks",
        "covered",
        "browsers.find_firefox",
        note="Firefox, BlackHawk, Cyberfox, IceDragon, K-Meleon, IceCat, Pale Moon, Basilisk "
        "(logins.json; the signons.sqlite of releases before 2014 is not read)",
    ),
    _e(
        "browsers/ie",
        "IntelliForms\\Storage2 registry",
        "out of scope",
        note="Windows 7 and older only; newer Windows keeps these in the vault",
    ),
    _e(
        "browsers/ucbrowser",
        "%LOCALAPPDATA%\\UCBrowser\\User Data*\\<profile>\\UC Login Data.18 (wow_logins)",
        "covered",
        "browsers.find_chromium",
    ),
    _e(
        "chats/pidgin",
        "%APPDATA%\\.purple\\accounts.xml",
        "covered",
        "collaboration.find_chat_apps",
    ),
    _e("chats/psi", "psi profiles accounts.xml", "scan"),
    _e("chats/skype", "classic Skype config", "out of scope", note="classic Skype is gone"),
    _e("databases/dbvis", "~\\.dbvis\\config70\\dbvis.xml", "scan"),
    _e(
        "databases/postgresql",
        "%APPDATA%\\postgresql\\pgpass.conf",
        "covered",
        "databases.find_database_clients",
    ),
    _e("databases/robomongo", "robomongo.json, robo3t.json", "scan"),
    _e(
        "databases/sqldeveloper",
        "SQL Developer connections.xml/json",
        "covered",
        "databases.find_sqldeveloper",
    ),
    _e("databases/squirrel", "SQLAliases23.xml", "scan"),
    _e("games/galconfusion", "galcon.cfg", "out of scope", note=_NO_ORG),
    _e("games/kalypsomedia", "launcher.ini", "out of scope", note=_NO_ORG),
    _e("games/roguestale", "Rogue's Tale users", "out of scope", note=_NO_ORG),
    _e("games/turba", "Turba Settings.bin", "out of scope", note=_NO_ORG),
    _e(
        "git/gitforwindows",
        "~\\.git-credentials, ~\\.config\\git\\credentials",
        "covered",
        "developer.find_git_credentials",
    ),
    _e(
        "mails/outlook", "Outlook profiles in the registry", "covered", "mail.find_windows_accounts"
    ),
    _e(
        "mails/thunderbird_mails",
        "Thunderbird, Epyrus, Interlink",
        "covered",
        "mail.find_thunderbird",
    ),
    _e("maven/mavenrepositories", "~\\.m2\\settings.xml", "scan"),
    _e(
        "memory/keepass",
        "KeePass databases opened with keys from memory",
        "partly",
        "vaults.find_keepass",
        note="the agent never opens a vault: it reports databases named for the organisation",
    ),
    _e("memory/memorydump", "process memory", "out of scope", note="reads other processes' memory"),
    _e(
        "memory/onepassword",
        "1Password process memory",
        "out of scope",
        note="reads other processes' memory",
    ),
    _e("multimedia/eyecon", "eyeDB registry", "out of scope", note=_NO_ORG),
    _e("php/composer", "Composer auth.json", "scan"),
    _e(
        "svn/tortoise",
        "%APPDATA%\\Subversion\\auth\\svn.simple",
        "covered",
        "subversion.find_subversion",
    ),
    _e("sysadmin/apachedirectorystudio", "connections.xml", "scan"),
    _e(
        "sysadmin/coreftp",
        "HKCU\\Software\\FTPware\\CoreFTP\\Sites",
        "covered",
        "ftp.find_coreftp",
        note="every loaded user hive",
    ),
    _e(
        "sysadmin/cyberduck",
        "%APPDATA%\\Cyberduck\\*\\*\\user.config",
        "covered",
        "ftp.find_cyberduck_config",
        "ftp.find_cyberduck",
    ),
    _e(
        "sysadmin/filezilla",
        "%APPDATA%\\FileZilla sitemanager.xml, recentservers.xml",
        "covered",
        "ftp.find_filezilla",
    ),
    _e(
        "sysadmin/filezillaserver",
        "FileZilla Server Interface.xml",
        "out of scope",
        note="a local server's admin password",
    ),
    _e(
        "sysadmin/ftpnavigator",
        "C:\\FTP Navigator\\Ftplist.txt",
        "covered",
        "ftp.find_ftp_navigator",
        note="anonymous logins are no one's credential and are not reported",
    ),
    _e(
        "sysadmin/iisapppool",
        "appcmd list apppool",
        "not yet",
        note="a server role; needs administrator",
    ),
    _e(
        "sysadmin/iiscentralcertp",
        "IIS CentralCertProvider",
        "not yet",
        note="a server role; needs administrator",
    ),
    _e(
        "sysadmin/keepassconfig",
        "KeePass.ini / KeePass.config.xml",
        "partly",
        "vaults.find_keepass",
        note="databases named for the organisation among those KeePassXC and KeePass 2 "
        "remember; key files not reported",
    ),
    _e(
        "sysadmin/mRemoteNG",
        "%APPDATA%\\mRemoteNG\\confCons.xml*",
        "covered",
        "remote_desktop.find_mremoteng",
    ),
    _e("sysadmin/opensshforwindows", "~\\.ssh private keys", "covered", "developer.find_ssh"),
    _e(
        "sysadmin/openvpn",
        "OpenVPN-GUI registry, .ovpn files",
        "covered",
        "vpn.find_openvpn",
        "vpn.find_openvpn_gui",
        note="profiles' remotes, and the user names OpenVPN GUI saved (with whether a password "
        "is saved) in every loaded user hive",
    ),
    _e(
        "sysadmin/puttycm",
        "PuTTY Connection Manager database (the registry's DefaultDatabase)",
        "covered",
        "remote_desktop.find_puttycm",
    ),
    _e("sysadmin/rclone", "%APPDATA%\\rclone\\rclone.conf", "scan"),
    _e(
        "sysadmin/rdpmanager",
        "RDCMan.settings and its .rdg files",
        "covered",
        "remote_desktop.find_rdp_files",
    ),
    _e(
        "sysadmin/unattended",
        "Panther and Sysprep unattend.xml",
        "covered",
        "system_config.find_unattend",
    ),
    _e(
        "sysadmin/vnc",
        "RealVNC/TightVNC/TigerVNC passwords",
        "out of scope",
        note="a per-machine VNC password, no account",
    ),
    _e(
        "sysadmin/winscp",
        "HKCU\\Software\\Martin Prikryl\\WinSCP 2\\Sessions",
        "covered",
        "ftp.find_winscp",
    ),
    _e("sysadmin/wsl", "WSL /etc/shadow", "out of scope", note="local Linux account hashes"),
    _e("wifi/wifi", "WLAN profiles", "covered", "wifi.find_windows_wlan"),
    _e(
        "windows/autologon",
        "Winlogon DefaultUserName, DefaultDomainName, DefaultPassword",
        "covered",
        "system_config.find_autologon",
    ),
    _e(
        "windows/cachedump",
        "MSCache in the SECURITY hive",
        "out of scope",
        note="needs SYSTEM; a domain-joined device is reported by the accounts probe",
    ),
    _e(
        "windows/credfiles",
        "%APPDATA%\\Microsoft\\Credentials DPAPI blobs",
        "partly",
        "os_stores.find_credential_manager",
        note="this user's entries through CredEnumerate",
    ),
    _e("windows/credman", "CredEnumerate", "covered", "os_stores.find_credential_manager"),
    _e("windows/hashdump", "SAM hashes", "out of scope", note="local account hashes"),
    _e(
        "windows/lsa_secrets",
        "LSA secrets",
        "out of scope",
        note="needs SYSTEM; auto-logon's secret is found through Winlogon",
    ),
    _e("windows/ppypykatz", "lsass memory", "out of scope", note="reads lsass memory"),
    _e(
        "windows/vault",
        "VaultEnumerateItems",
        "partly",
        "os_stores.find_credential_manager",
        note="Windows Credentials; Web Credentials not read",
    ),
    _e(
        "windows/vaultfiles",
        "%LOCALAPPDATA%\\Microsoft\\Vault",
        "partly",
        "os_stores.find_credential_manager",
        note="entries through Credential Manager only",
    ),
    _e(
        "windows/windows",
        "the user's own password via DPAPI",
        "out of scope",
        note="the person's own device password",
    ),
)
LINUX = (
    _e(
        "browsers/chromium_browsers",
        "~/.config/<browser> of 9 Chromium browsers",
        "covered",
        "browsers.find_chromium",
        note="Chrome (Beta, Dev), Chromium, Brave, Edge (Beta, Dev), Vivaldi, Opera, Slimjet, "
        "Dissenter, with flatpak and snap",
    ),
    _e(
        "browsers/firefox_browsers",
        "~/.mozilla/firefox, icecat, ~/.waterfox",
        "covered",
        "browsers.find_firefox",
        note="Firefox (snap, flatpak too), IceCat, Waterfox, and Pale Moon",
    ),
    _e("browsers/opera", "~/.opera/wand.dat", "out of scope", note="Presto Opera, gone since 2013"),
    _e("chats/pidgin", "~/.purple/accounts.xml", "covered", "collaboration.find_chat_apps"),
    _e("chats/psi", "psi profiles accounts.xml", "scan"),
    _e("databases/dbvis", "~/.dbvis/config70/dbvis.xml", "scan"),
    _e(
        "databases/sqldeveloper",
        "~/.sqldeveloper connections.xml/json",
        "covered",
        "databases.find_sqldeveloper",
    ),
    _e("databases/squirrel", "~/.squirrel-sql/SQLAliases23.xml", "scan"),
    _e(
        "git/gitforlinux",
        "~/.git-credentials, ~/.config/git/credentials",
        "covered",
        "developer.find_git_credentials",
    ),
    _e("mails/clawsmail", "~/.claws-mail/accountrc", "covered", "clawsmail.find_claws_mail"),
    _e("mails/thunderbird_mails", "~/.thunderbird", "covered", "mail.find_thunderbird"),
    _e("memory/mimipy", "process memory", "out of scope", note="reads other processes' memory"),
    _e("sysadmin/apachedirectorystudio", "connections.xml", "scan"),
    _e(
        "sysadmin/aws",
        "~/.aws/credentials",
        "partly",
        "developer.find_aws_cli",
        note="SSO start URLs and role ARNs of the organisation; bare access keys name no org",
    ),
    _e(
        "sysadmin/cli",
        "shell histories",
        "covered",
        "histories.find_histories",
        note="bash, zsh, sh, fish; not Midnight Commander's history",
    ),
    _e("sysadmin/docker", "~/.docker/config.json", "covered", "developer.find_docker"),
    _e(
        "sysadmin/env_variable",
        "/proc/*/environ",
        "not yet",
        note="a process environment is transient",
    ),
    _e("sysadmin/filezilla", "~/.config/filezilla, ~/.filezilla", "covered", "ftp.find_filezilla"),
    _e("sysadmin/fstab", "/etc/fstab credentials", "covered", "system_config.find_fstab_cifs"),
    _e("sysadmin/gftp", "~/.gftp/bookmarks", "scan"),
    _e("sysadmin/grub", "GRUB password", "out of scope", note="a boot password, no account"),
    _e(
        "sysadmin/keepassconfig",
        "KeePassX / KeePass config",
        "partly",
        "vaults.find_keepass",
        note="KeePassXC's remembered databases named for the organisation",
    ),
    _e("sysadmin/rclone", "~/.config/rclone/rclone.conf", "scan"),
    _e("sysadmin/shadow", "/etc/shadow", "out of scope", note="local account hashes"),
    _e("sysadmin/ssh", "~/.ssh private keys", "covered", "developer.find_ssh"),
    _e(
        "wallet/kde",
        "KWallet over D-Bus",
        "partly",
        "os_stores.find_secret_service",
        note="entries through the Secret Service; wallet files not inspected when it is unreadable",
    ),
    _e("wallet/libsecret", "Secret Service", "covered", "os_stores.find_secret_service"),
    _e(
        "wifi/wifi",
        "/etc/NetworkManager/system-connections",
        "covered",
        "networkmanager.find_networkmanager",
    ),
    _e(
        "wifi/wpa_supplicant",
        "/etc/wpa_supplicant/wpa_supplicant.conf",
        "covered",
        "wifi.find_wpa_supplicant",
    ),
)
DARWIN = (
    _e("browsers/chrome", "Chrome Login Data", "covered", "browsers.find_chromium"),
    _e("browsers/firefox_browsers", "Firefox logins", "covered", "browsers.find_firefox"),
    _e("mails/thunderbird", "~/Library/Thunderbird", "covered", "mail.find_thunderbird"),
    _e("system/chainbreaker", "keychains", "covered", "os_stores.find_keychains"),
    _e("system/hashdump", "local account hashes", "out of scope", note="local account hashes"),
    _e(
        "system/system",
        "the login password",
        "out of scope",
        note="the person's own device password",
    ),
)
