"""A distribution installed the way pip leaves one in site-packages, without pip or a network:
a `*.dist-info` with its METADATA and `entry_points.txt`, which importlib.metadata reads from
any folder on `sys.path`."""

from pathlib import Path


def install_distribution(target: Path, name: str, sidecars: dict[str, str]) -> None:
    """`sidecars` maps each sidecar's name to its `module:attribute`."""
    info = target / f"{name.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(
        "[panamia.sidecars]\n" + "".join(f"{k} = {v}\n" for k, v in sidecars.items()))
