"""Loading honours ``--policy FILE``: the claim-status spellings (and encodings) a policy gives are
the ones an account is read with, and a cached account parsed under one policy is never served
under another."""
from __future__ import annotations

import os

from perfkit.core.policy import default_policy_text

from .test_bad_inputs import cli, good, rows_of

# ODR's claims on 24 March: lag 14, so the 60 days of orders up to 10 March, which hold the three
# seller-fulfilled orders G1 (1 March), G2 (2 March) and G4 (9 March); G3 is FBA.
AS_OF = "2026-03-24"
CLAIMS = "order_id,claim_date,status\nG1,2026-03-06,refused-by-amazon\nG2,2026-03-07,granted\n"


def _claims(stdout: str) -> tuple[str, str]:
    row = next(r for r in rows_of(stdout, "acct") if r["metric"] == "odr_claims" and r["segment"] == "MFN")
    return row["numerator"], row["denominator"]


def test_a_policy_spelling_changes_the_claim_count_through_the_cli(tmp_path):
    root = tmp_path / "data"
    good(root, "acct", claims=CLAIMS)
    policy = tmp_path / "policy.toml"
    text = default_policy_text()
    assert '"待处理" = "pending"' in text
    policy.write_text(text.replace('"待处理" = "pending"', '"refused-by-amazon" = "denied"\n"待处理" = "pending"'),
                      encoding="utf-8")
    env = {**os.environ, "PERFKIT_CACHE": str(tmp_path / "cache"), "PERFKIT_NO_CACHE": "0"}
    runs = {}
    # Default, then the policy, then the default again, on one cache: each run reads by its own policy.
    for name, extra in (("default", []), ("policy", ["--policy", str(policy)]), ("again", [])):
        res = cli("metrics", str(root), "--format", "csv", "--as-of", AS_OF, *extra, env=env)
        assert res.returncode == 0, res.stderr
        runs[name] = (_claims(res.stdout), res.stderr)
    # Default policy: 'refused-by-amazon' is unknown, so counted like a granted claim: G1 and G2,
    # 2 claims over the 3 seller-fulfilled orders (G1, G2, G4).
    assert runs["default"][0] == runs["again"][0] == ("2", "3")
    assert "unknown claim status 'refused-by-amazon'" in runs["default"][1]
    # The policy spells it as denied, which is not counted: G2's claim alone.
    assert runs["policy"][0] == ("1", "3")
    assert "unknown claim status" not in runs["policy"][1]


def test_check_reads_the_account_by_its_policy(tmp_path):
    root = tmp_path / "data"
    good(root, "acct", claims=CLAIMS)
    policy = tmp_path / "policy.toml"
    policy.write_text(default_policy_text().replace('"待处理" = "pending"',
                                                    '"refused-by-amazon" = "denied"\n"待处理" = "pending"'),
                      encoding="utf-8")
    plain = cli("check", str(root))
    assert "acct/claims.csv, row 2, column 'status': unknown claim status 'refused-by-amazon'" in plain.stdout + plain.stderr
    mine = cli("check", str(root), "--policy", str(policy))
    assert mine.returncode == 0, mine.stderr
    assert "unknown claim status" not in mine.stdout + mine.stderr


def test_undated_decisions_are_the_policys_uncounted_statuses(tmp_path):
    # A policy where only denied claims are not counted: of the two claims without status_date,
    # G1's denied one is the 1 decision dated from its filing; G2's withdrawn one now counts, so
    # it is no decision the note is about.
    root = tmp_path / "data"
    good(root, "acct", claims="order_id,claim_date,status\nG1,2026-03-06,denied\nG2,2026-03-07,withdrawn\n")
    policy = tmp_path / "policy.toml"
    text = default_policy_text()
    assert 'claim_statuses_not_counted = ["denied", "withdrawn"]' in text
    policy.write_text(text.replace('claim_statuses_not_counted = ["denied", "withdrawn"]',
                                   'claim_statuses_not_counted = ["denied"]'), encoding="utf-8")
    plain = cli("check", str(root))
    assert ("claims: 2 denied or withdrawn claims without status_date count as decided from the day they were "
            "filed") in plain.stdout + plain.stderr
    mine = cli("check", str(root), "--policy", str(policy))
    assert mine.returncode == 0, mine.stderr
    assert "claims: 1 denied claims without status_date count as decided" in mine.stdout + mine.stderr


def test_a_policy_encodings_table_decides_how_files_are_read(tmp_path):
    # A US account's orders saved in Windows-31J: the default policy tries cp1252 and GB18030 for
    # US, so the file reads as GB18030; a policy listing cp932 for US reads it as written.
    root = tmp_path / "data"
    folder = good(root, "acct")
    (folder / "orders.csv").write_bytes(
        "order_id,purchase_date,fulfillment_channel,order_status,product_name\n"
        "A1,2026-03-01T10:00:00Z,MFN,Shipped,テスト商品\n".encode("cp932"))
    policy = tmp_path / "policy.toml"
    text = default_policy_text()
    assert 'US = ["cp1252", "gb18030"]' in text
    policy.write_text(text.replace('US = ["cp1252", "gb18030"]', 'US = ["cp932"]'), encoding="utf-8")
    plain = cli("check", str(root))
    assert "acct/orders.csv: read as GB18030" in plain.stdout
    mine = cli("check", str(root), "--policy", str(policy))
    assert mine.returncode == 0, mine.stderr
    assert "acct/orders.csv: read as Windows-31J (Shift_JIS)" in mine.stdout
