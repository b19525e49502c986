"""docs/deploy.md shows the nginx configuration that the topology tests run."""

import re
from pathlib import Path

from tests.fixtures.topology import DOMAIN, nginx_conf

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
# What only a throw-away nginx under a test needs: where it keeps its files, its port, its
# certificate, running in the foreground.
TEST_ONLY = ("daemon", "worker_processes", "pid", "error_log", "events", "access_log",
             "client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path",
             "scgi_temp_path", "ssl_certificate", "ssl_certificate_key", "listen")


def directives(conf: str) -> set[str]:
    lines = (" ".join(line.split("#")[0].split()) for line in conf.splitlines())
    return {line for line in lines if line}


def test_the_documented_nginx_configuration_has_every_directive_the_tests_run():
    documented = directives(re.search(r"```nginx\n(.*?)```", DEPLOY.read_text(), re.S).group(1))
    tested = directives(nginx_conf(8443, {"main": [8000, 8010], "pets": [8001, 8011]})
                        .replace(DOMAIN, "example.org"))
    missing = {line for line in tested - documented if line.split()[0] not in TEST_ONLY}
    assert not missing, f"docs/deploy.md's nginx block lacks: {sorted(missing)}"
