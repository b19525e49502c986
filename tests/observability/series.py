"""Reading /metrics as Prometheus does: the text format parsed, samples picked by labels."""

import httpx
from prometheus_client.parser import text_string_to_metric_families

METRICS_TOKEN = "metrics-token-" + "m" * 32
AUTHORIZED = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def samples(exposition: str, name: str, **labels: str) -> list:
    """The samples called `name` whose labels include `labels`."""
    return [
        sample for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    ]


def value(exposition: str, name: str, **labels: str) -> float:
    """The sum of those samples (across workers' `pid` labels too); 0 when there is none."""
    return sum(sample.value for sample in samples(exposition, name, **labels))


async def scrape(client: httpx.AsyncClient) -> str:
    answer = await client.get("/metrics", headers=AUTHORIZED)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return answer.text
