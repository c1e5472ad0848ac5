"""`--variation` on `conformance serve` and `conformance run`, and `variations` in the config file:
one-line errors with exit code 2, and what reaches the reference server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance import config as run_config
from conformance import engine
from conformance.cli import main
from conformance.config import PlatformConfig
from conformance.errors import ConfigError, UsageError


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as exit_:  # argparse exits itself
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["serve", "--variation", "nope"], "unknown variation nope"),
        (["serve", "--variation", "gzip,nope"], "unknown variation nope"),
        (
            ["serve", "--variation", "repeat-200", "--variation", "repeat-409"],
            "repeat-200 and repeat-409 cannot be combined",
        ),
        (
            ["serve", "--platform", "full-manual", "--variation", "missing-write-405"],
            "variation missing-write-405 does not apply to platform full-manual",
        ),
        (
            ["run", "--platform", "no-returns", "--variation", "create-200"],
            "variation create-200 does not apply to platform no-returns (it applies to: "
            "full-manual, auto-approve, seller-decides, no-reverse-shipments)",
        ),
        (["run", "--variation", "read-lag"], "does not apply to platform marketplace-readonly"),
        (
            ["run", "--base-url", "http://127.0.0.1:9", "--variation", "gzip"],
            "--variation applies to the embedded reference platforms only",
        ),
        (["run", "--variation", "nope"], "unknown variation nope"),
    ],
)
def test_bad_variations_are_one_line_and_exit_2(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(args, capsys)
    assert code == 2
    assert says in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err + out


def test_serve_names_its_variations(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    served: list[Any] = []

    def run(server: uvicorn.Server, sockets: list[Any]) -> None:
        served.append(server.config.app)
        for sock in sockets:
            sock.close()

    monkeypatch.setattr(uvicorn.Server, "run", run)
    args = ["serve", "--platform", "full-manual", "--token", "t", "--port", "0"]
    code, _, err = run_cli(
        [*args, "--variation", "long-text,create-200", "--variation", "gzip"], capsys
    )
    assert code == 0, err
    assert (
        "serving full-manual (imitates Shopify) with variations create-200, gzip, long-text" in err
    )
    [app] = served
    transport = httpx.ASGITransport(app=app)

    async def create() -> httpx.Response:
        headers = {"Authorization": "Bearer t"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://x", headers=headers
        ) as c:
            body = {"return": {"items": [{"id": "SHOP-1001-1", "quantity": 1, "reason": "other"}]}}
            return await c.post("/api/v2/orders/SHOP-1001/returns", json=body)

    import asyncio

    response = asyncio.run(create())
    assert response.status_code == 200  # create-200
    assert response.headers["content-encoding"] == "gzip"


def test_build_puts_the_variations_on_the_reference_platforms() -> None:
    cfg = run_config.build(platform="full-manual", variations=frozenset({"gzip", "read-lag"}))
    assert cfg.platforms[0].variations == {"gzip", "read-lag"}
    assert cfg.consistency_window == 1.0  # what read-lag needs, not the embedded 0.0
    assert run_config.build(platform="full-manual").consistency_window == 0.0
    plain = run_config.build(platform="full-manual", variations=frozenset({"gzip"}))
    assert plain.consistency_window == 0.0


def test_the_window_is_for_url_targets_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A config file's embedded (`reference`) platforms wait for no lagging reads: a 2 s window
    there made every platform of a many-platform run settle for 2 s before its list checks."""
    file = tmp_path / "c.toml"
    file.write_text('[[platform]]\nname = "a"\nreference = "full-manual"\n', "utf-8")
    assert run_config.build(config_file=str(file)).consistency_window == 0.0
    monkeypatch.setenv("CONFORMANCE_TOKEN", "t")
    file.write_text(
        '[[platform]]\nname = "a"\nreference = "full-manual"\n'
        '[[platform]]\nname = "b"\nbase_url = "http://shop.example"\n',
        "utf-8",
    )
    assert run_config.build(config_file=str(file)).consistency_window == 2.0
    assert run_config.build(base_url="http://shop.example", token="t").consistency_window == 2.0


def test_config_file_rows_take_variations(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    row = '[[platform]]\nname = "x"\nreference = "no-returns"\n'
    url_row = '[[platform]]\nname = "x"\nbase_url = "http://x.example"\n'
    file.write_text(
        '[[platform]]\nname = "shop"\nreference = "full-manual"\n'
        'variations = ["long-text", "encoded-ids"]\n'
        '[[platform]]\nname = "plain"\nreference = "no-returns"\n'
    )
    cfg = run_config.build(config_file=str(file))
    assert [p.variations for p in cfg.platforms] == [{"long-text", "encoded-ids"}, set()]
    cfg = run_config.build(config_file=str(file), variations=frozenset({"gzip"}))
    assert [p.variations for p in cfg.platforms] == [{"long-text", "encoded-ids", "gzip"}, {"gzip"}]
    file.write_text(row + 'variations = ["long-text"]\n')
    with pytest.raises(ConfigError, match=r"#1: variation long-text does not apply"):
        run_config.build(config_file=str(file))
    file.write_text(row + 'variations = "gzip"\n')
    with pytest.raises(ConfigError, match="must be a list"):
        run_config.build(config_file=str(file))
    file.write_text(url_row + 'variations = ["gzip"]\n')
    with pytest.raises(ConfigError, match="reference platforms only"):
        run_config.build(config_file=str(file), token="t")


def test_a_url_target_in_the_file_refuses_the_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFORMANCE_TOKEN", "t")
    file = tmp_path / "c.toml"
    file.write_text('[[platform]]\nname = "x"\nbase_url = "http://x.example"\n')
    with pytest.raises(UsageError, match="x is a URL target"):
        run_config.build(config_file=str(file), token="t", variations=frozenset({"gzip"}))


def test_connect_serves_the_varied_platform() -> None:
    platform = PlatformConfig("p", reference="full-manual", variations=frozenset({"numeric-ids"}))
    cfg = run_config.build(platform="full-manual")
    with engine.connect(platform, cfg, writes=False) as target:
        reply = target.call("GET", "/api/v2/orders")
        assert all(o["id"].isdigit() for o in reply.get("orders"))


def test_a_varied_platform_is_not_held_to_the_plain_profiles_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The packaged manifest describes the plain profile. With platform-statuses the cells that
    show statuses are partial, as the contract says: no overclaim, the gate passes. Without the
    variation the manifest still applies (its claims are in the matrix)."""
    varied = tmp_path / "varied"
    argv = ["run", "--platform", "full-manual", "--max-examples", "0", "--no-schemathesis"]
    code = main([*argv, "--variation", "platform-statuses", "--output-dir", str(varied)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "overclaim" not in out
    cells = json.loads((varied / "capability_matrices" / "full-manual.json").read_text())
    cells = cells["operations"]
    assert {c["status"] for c in cells.values()} == {"partial", "supported", "unsupported"}
    assert all(c["declared"] is None for c in cells.values())
    plain = tmp_path / "plain"
    assert main([*argv, "--output-dir", str(plain)]) == 0
    capsys.readouterr()
    claims = json.loads((plain / "capability_matrices" / "full-manual.json").read_text())
    assert all(c["declared"] is not None for c in claims["operations"].values())
