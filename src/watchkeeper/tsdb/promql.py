"""Graph points read from a time-series database's PromQL API instead of the embedded store.

With remote write configured to read back (`watchkeeper run --remote-read`), graphs and the
metrics API ask the database that receives the samples: `avg_over_time`, `min_over_time` and
`max_over_time` of the series over each step of `/api/v1/query_range`, the same average,
minimum and maximum per bucket that the embedded tiers keep. Prometheus and VictoriaMetrics
both answer it. A database that cannot answer is an error on that graph, named, not an empty
graph: a missing line would read as "no data".
"""

from __future__ import annotations

import math

import httpx

from watchkeeper.errors import WatchkeeperError
from watchkeeper.store.database import MetricPoint
from watchkeeper.tsdb.remote_write import metric_name


class ReadError(WatchkeeperError):
    pass


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def selector(host: str, service: str, metric: str, site: str) -> str:
    return (f"{metric_name(metric)}{{host={_quoted(host)},service={_quoted(service)},site={_quoted(site)}}}")


class PromQLSource:
    """Reads metric points from `base_url` (e.g. http://127.0.0.1:8428 or http://127.0.0.1:9090)."""

    def __init__(self, base_url: str, site: str, token: str | None = None, timeout_s: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self.site = site
        self.client = httpx.Client(headers=headers, timeout=timeout_s, transport=transport)

    def points(self, host: str, service: str, metric: str, start: float, end: float,
               step: float = 60.0) -> list[MetricPoint]:
        step = max(60, int(step))
        first = start // step * step  # steps on the same boundaries as the embedded tiers' buckets
        series = selector(host, service, metric, self.site)
        columns = [self._range(f"{fn}_over_time({series}[{step}s])", first, end, step)
                   for fn in ("avg", "min", "max")]
        points = []
        for ts in sorted(columns[0]):
            avg = columns[0][ts]
            points.append(MetricPoint(ts - step, avg, columns[1].get(ts, avg), columns[2].get(ts, avg)))
        return points

    def close(self) -> None:
        self.client.close()

    def _range(self, query: str, start: float, end: float, step: int) -> dict[float, float]:
        # the value at t covers (t - step, t]: ask from one step later, so each point is the step it begins
        params = {"query": query, "start": f"{start + step:.3f}", "end": f"{end + step:.3f}", "step": str(step)}
        try:
            response = self.client.get(f"{self.base_url}/api/v1/query_range", params=params)
        except httpx.HTTPError as exc:
            raise ReadError(f"metrics database {self.base_url} cannot be read: {type(exc).__name__}: {exc}") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code != 200 or answer.get("status") != "success":
            reason = answer.get("error") or response.text[:200]
            raise ReadError(f"metrics database {self.base_url} answered HTTP {response.status_code}: {reason}")
        values: dict[float, float] = {}
        for result in answer.get("data", {}).get("result", []):
            for ts, text in result.get("values", []):
                value = float(text)
                if math.isfinite(value):
                    values[float(ts)] = value
        return values
