"""Cross-check of konter's router simulator with an independent RouterOS API client.

Run by tests/routeros_librouteros.rs: python3 routeros_librouteros.py HOST PORT USER PASSWORD
Prints one JSON object with what it saw; exits non-zero on any mismatch.
"""
import json
import sys

try:
    import librouteros
    from librouteros import connect
    from librouteros.exceptions import TrapError
    from librouteros.login import plain, token
    from librouteros.query import Key, And, Or
except ImportError as e:  # the Rust test turns this into a clear failure
    print(json.dumps({"error": f"librouteros is not installed: {e}; run `make pydeps`"}))
    sys.exit(3)


def main() -> int:
    host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    seen = {}

    # Plain login (RouterOS >= 6.43).
    api = connect(host=host, port=port, username=user, password=password,
                  login_method=plain, encoding="cp1252", timeout=10)
    users = api.path("ip", "hotspot", "user")

    # .proplist: only the keys asked for (plus nothing else).
    name, profile, comment, disabled = Key("name"), Key("profile"), Key("comment"), Key("disabled")
    rows = list(users.select(name, profile))
    seen["users"] = len(rows)
    assert rows, "no users"
    assert all(set(r.keys()) <= {"name", "profile"} for r in rows), rows[:3]

    # A query: 30-minute vouchers that are not disabled.
    rows30 = list(users.select(name, profile, disabled).where(
        And(profile == "30Menit", disabled == False)))  # noqa: E712 (librouteros Key API)
    seen["thirty_enabled"] = len(rows30)
    assert rows30 and all(r["profile"] == "30Menit" and r["disabled"] is False for r in rows30)

    # Or + In
    both = list(users.select(name).where(Or(profile == "10Menit", profile == "30Menit")))
    seen["ten_or_thirty"] = len(both)

    # Add a user and read it back by name.
    new_id = users.add(name="pycheck1", password="pycheck1", profile="10Menit",
                       **{"limit-uptime": "10m", "comment": "vc-777-11.21.26-Blok-D10"})
    seen["added_id"] = new_id
    assert new_id.startswith("*"), new_id
    got = list(users.select(Key(".id"), name, comment, Key("limit-uptime")).where(name == "pycheck1"))
    assert len(got) == 1 and got[0][".id"] == new_id, got
    assert got[0]["limit-uptime"] == "10m", got

    # Set its comment and disable it.
    users.update(**{".id": new_id, "comment": "Audit: RUSAK 21/11/26 vc-777", "disabled": True})
    got = list(users.select(comment, disabled).where(name == "pycheck1"))
    assert got[0]["comment"] == "Audit: RUSAK 21/11/26 vc-777" and got[0]["disabled"] is True, got
    seen["set_ok"] = True

    # A bad command and a bad argument are !trap.
    try:
        list(api("/ip/hotspot/nonsense/print"))
        raise AssertionError("no trap for an unknown command")
    except TrapError as e:
        seen["trap_command"] = e.message
    try:
        users.add(name="pycheck2", colour="red")
        raise AssertionError("no trap for an unknown argument")
    except TrapError as e:
        seen["trap_argument"] = e.message
    try:
        users.add(name="pycheck1", password="x")
        raise AssertionError("no trap for a duplicate name")
    except TrapError as e:
        seen["trap_duplicate"] = e.message

    # Sales records and active sessions are readable too.
    scripts = list(api.path("system", "script").select(Key("name"), Key("comment"))
                   .where(Key("comment") == "mikhmon"))
    seen["sales_records"] = len(scripts)
    assert all(len(s["name"].split("-|-")) == 9 for s in scripts)
    seen["active"] = len(list(api.path("ip", "hotspot", "active")))
    api.close()

    # The pre-6.43 MD5 challenge login also works.
    api2 = connect(host=host, port=port, username=user, password=password,
                   login_method=token, encoding="cp1252", timeout=10)
    seen["token_login_identity"] = list(api2.path("system", "identity"))[0]["name"]
    api2.close()

    # Wrong password: a trap, as on a real router.
    try:
        connect(host=host, port=port, username=user, password=password + "x",
                login_method=plain, timeout=10)
        raise AssertionError("wrong password accepted")
    except TrapError as e:
        seen["bad_login"] = e.message

    seen["librouteros"] = getattr(librouteros, "__version__", "unknown")
    print(json.dumps(seen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
