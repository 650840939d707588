"""Password-manager CSV exports: rows whose site or login is the organisation's, with a password.

An export names its columns once, on the first line, and holds the passwords on later lines, so
the key-and-value patterns of files_rules never see a password beside its name. The header
shapes (lower-cased; quoted in Firefox's):
  Bitwarden   folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,
              login_password,login_totp
  1Password   Title,Url,Username,Password,OTPAuth,Favorite,Archived,Tags,Notes
  LastPass    url,username,password,totp,extra,name,grouping,fav
  Chrome/Edge name,url,username,password,note
  Firefox     "url","username","password","httpRealm","formActionOrigin","guid",...
  KeePassXC   "Group","Title","Username","Password","URL","Notes",...
and a row such as `Webmail,https://mail.example.ac.uk/owa,alice,<password>,` is the
organisation's password for mail.example.ac.uk.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

PASSWORD_COLUMNS = ("password", "login_password")
SITE_COLUMNS = ("url", "login_uri", "website", "web site", "formactionorigin", "hostname")
LOGIN_COLUMNS = ("username", "login_username", "login name", "user name", "email")
HEADER_BYTES = 1024  # a header longer than this is no export's


def export_columns(low: bytes) -> tuple[int, list[int]] | None:
    """The password column and the site and login columns, when the first line of the
    lower-cased text is an export's header; None for any other file.

    b"name,url,username,password,note\\n..." -> (3, [1, 2]); b"[db]\\npassword = x" -> None.
    """
    end = low.find(b"\n", 0, HEADER_BYTES)
    first = low[: end if end != -1 else HEADER_BYTES]
    if b"password" not in first or b"," not in first:
        return None
    header = next(csv.reader([first.decode("utf-8", "replace").lstrip("\ufeff").strip()]), [])
    names = [name.strip() for name in header]
    password = next((names.index(n) for n in PASSWORD_COLUMNS if n in names), None)
    named = [i for i, name in enumerate(names) if name in SITE_COLUMNS + LOGIN_COLUMNS]
    if password is None or not named:
        return None
    return password, named


def export_rows(data: bytes, columns: tuple[int, list[int]]) -> Iterator[tuple[str, bytes]]:
    """Each data row's site and login cells (joined, lower-cased) and its password; the caller
    decides whose they are and never reports the password. A row the csv module rejects (a
    cell over its 128 KiB limit) ends the rows: the rest of the file is still read by the
    patterns of files_rules, and no export has such a cell."""
    password, named = columns
    rows = csv.reader(io.StringIO(data.decode("utf-8", "replace"), newline=""))
    try:
        next(rows, None)  # the header
        for row in rows:
            if len(row) > max(password, *named):
                yield " ".join(row[i] for i in named).lower(), row[password].encode("utf-8")
    except csv.Error:
        return
