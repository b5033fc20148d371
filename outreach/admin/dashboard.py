"""The dashboard page (the admin's home, and /admin/dashboard/): panels, SVG charts, CSV.

The figures come from outreach/dashboard.py; this module lays them out. Charts are SVG
written here (no script, no style element: the Content Security Policy allows neither
inline), every figure links to the queue filtered to its cases (``CohortFilter``), and
``?export=<panel>`` returns that panel as CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from monitoring.models import Brand
from outreach import dashboard

PANELS = ("funnel", "complaints", "service", "jackals", "workload")
COLOURS = ("#417690", "#ba2121", "#79aec8", "#e39b3a", "#5b8c3a", "#8a5aa3", "#444444")
# A cell a spreadsheet would run as a formula starts with one of these (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def queue_url(query: dict[str, str] | None) -> str:
    if query is None:
        return ""
    return reverse("admin:outreach_case_changelist") + "?" + urlencode(query)


def detections_url(query: dict[str, str]) -> str:
    return reverse("admin:monitoring_detection_changelist") + "?" + urlencode(query)


def safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text (a leading ' before formula characters)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_response(name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="nojackal-{name}.csv"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return response


def export(panel: str, period: dashboard.Period) -> HttpResponse:
    if panel == "funnel":
        return csv_response(
            "funnel",
            ["kind", "step", "cases", "conversion_percent"],
            ((r["kind"], r["step"], r["count"], r["conversion"]) for r in dashboard.funnel(period)),
        )
    if panel == "complaints":
        data = dashboard.complaints(period)
        return csv_response(
            "complaints",
            ["brand", "day", "complaints"],
            (
                (r["brand"].name, day.isoformat(), n)
                for r in data["rows"]
                for day, n in zip(data["days"], r["series"], strict=True)
            ),
        )
    if panel == "service":
        data = dashboard.service(period)
        return csv_response(
            "service",
            ["week", "first_replies", "median_hours", "p90_hours", "sla_hours"],
            (
                (w["week"], w["replies"], w["median_hours"], w["p90_hours"], data["sla_hours"])
                for w in data["weeks"]
            ),
        )
    if panel == "jackals":
        data = dashboard.jackals(period)
        return csv_response(
            "jackals",
            ["week", "replied", "measure", "count", "percent", "threshold_percent"],
            (
                (w["week"], w["replied"], m["label"], m["count"], m["rate"], m["threshold"])
                for w in data["weeks"]
                for m in w["measures"]
            ),
        )
    rows = dashboard.workload(period)
    return csv_response(
        "workload",
        ["user", "open_cases", "awaiting_approval", "approvals", "stage", "median_hours"],
        (
            (
                r["user"].get_username(),
                r["open"],
                r["awaiting"],
                r["approvals"],
                stage,
                r["medians"].get(stage),
            )
            for r in rows
            for stage in dashboard.WORK_STAGES
        ),
    )


def line_chart(days: list[dt.date], rows: list[dict[str, Any]]) -> SafeString:
    """Complaints per day, a line per brand, incidents as marks on their brand's line."""
    width, height, left, top = 640, 160, 36, 10
    peak = max((max(r["series"], default=0) for r in rows), default=0) or 1
    step = width / max(1, len(days) - 1)

    def x(i: int) -> float:
        return round(left + i * step, 1)

    def y(n: float) -> float:
        return round(top + height - n / peak * height, 1)

    index = {d: i for i, d in enumerate(days)}
    parts = []
    for k, row in enumerate(rows):
        colour = COLOURS[k % len(COLOURS)]
        points = " ".join(f"{x(i)},{y(n)}" for i, n in enumerate(row["series"]))
        parts.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="{}">'
                "<title>{}</title></polyline>",
                points,
                colour,
                3 if row["own"] else 1.5,
                row["brand"].name,
            )
        )
        for day, pk, topic in row["incidents"]:
            i = index.get(day)
            if i is None:
                continue
            parts.append(
                format_html(
                    '<a href="{}"><circle cx="{}" cy="{}" r="5" fill="{}">'
                    "<title>incident #{}: {} {} from {}</title></circle></a>",
                    reverse("admin:monitoring_incident_change", args=[pk]),
                    x(i),
                    y(row["series"][i]),
                    colour,
                    pk,
                    row["brand"].name,
                    topic,
                    day,
                )
            )
    return format_html(
        '<svg width="{}" height="{}" role="img" aria-label="complaints per brand per day">'
        '<line x1="{l}" y1="{t}" x2="{l}" y2="{b}" stroke="#333"/>'
        '<line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="#333"/>'
        '<text x="{lx}" y="{ty}" font-size="10" text-anchor="end">{peak}</text>'
        '<text x="{lx}" y="{b}" font-size="10" text-anchor="end">0</text>'
        '<text x="{l}" y="{xy}" font-size="10">{first}</text>'
        '<text x="{r}" y="{xy}" font-size="10" text-anchor="end">{last}</text>{}</svg>',
        left + width + 10,
        top + height + 20,
        SafeString("".join(parts)),
        l=left,
        t=top,
        b=top + height,
        r=left + width,
        lx=left - 4,
        ty=top + 8,
        peak=peak,
        xy=top + height + 14,
        first=days[0],
        last=days[-1],
    )


def bar_chart(weeks: list[dict[str, Any]], sla: float | None) -> SafeString:
    """Hours to first reply per week: median bar, 90th percentile tick, SLA as a line."""
    left, top, height, step = 36, 10, 120, 40
    peak = max([w["p90_hours"] or 0 for w in weeks] + [sla or 0, 1])

    def y(v: float) -> float:
        return round(top + height - v / peak * height, 1)

    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="24" height="{}" fill="#417690"><title>week of {}: median '
        "{} h</title></rect>"
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#e39b3a" stroke-width="3"><title>90th '
        "percentile {} h</title></line>",
        (
            (
                left + 4 + i * step,
                y(w["median_hours"] or 0),
                round(top + height - y(w["median_hours"] or 0), 1),
                w["week"],
                w["median_hours"],
                left + 2 + i * step,
                y(w["p90_hours"] or 0),
                left + 30 + i * step,
                y(w["p90_hours"] or 0),
                w["p90_hours"],
            )
            for i, w in enumerate(weeks)
        ),
    )
    width = step * len(weeks) + 8
    sla_line = (
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ba2121" stroke-dasharray="4 3">'
            "<title>SLA {} h</title></line>",
            left,
            y(sla),
            left + width,
            y(sla),
            sla,
        )
        if sla
        else ""
    )
    return format_html(
        '<svg width="{}" height="{}" role="img" aria-label="hours to first reply per week">'
        '<line x1="{l}" y1="{t}" x2="{l}" y2="{b}" stroke="#333"/>'
        '<line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="#333"/>'
        '<text x="{lx}" y="{ty}" font-size="10" text-anchor="end">{peak} h</text>'
        '<text x="{lx}" y="{b}" font-size="10" text-anchor="end">0</text>{}{}</svg>',
        left + width + 10,
        top + height + 10,
        bars,
        sla_line,
        l=left,
        t=top,
        b=top + height,
        r=left + width,
        lx=left - 4,
        ty=top + 8,
        peak=round(peak, 1),
    )


def view(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    """The dashboard for ``?start=&end=&brand=`` (default: the last four weeks, all brands)."""
    site = admin.site
    error = ""
    try:
        period = dashboard.parse_period(request.GET)
    except dashboard.PeriodError as problem:
        error = str(problem)
        period = dashboard.default_period()
    panel = request.GET.get("export", "")
    if panel:
        if panel not in PANELS or error:
            return HttpResponse(
                error or "No such panel.", status=400, content_type="text/plain; charset=utf-8"
            )
        return export(panel, period)
    funnel = dashboard.funnel(period)
    peak = max((r["count"] for r in funnel), default=0) or 1
    # A figure links to the list behind it only for someone who may open that list.
    sees_detections = request.user.has_perm("monitoring.view_detection")
    for row in funnel:
        if row["detected"]:
            row["url"] = detections_url(row["link"]) if sees_detections else ""
        else:
            row["url"] = queue_url(row["link"])
        row["bar"] = max(1, round(200 * row["count"] / peak))
    complaints = dashboard.complaints(period)
    service = dashboard.service(period)
    service["overdue_url"] = queue_url(service["overdue_link"])
    service["soon_url"] = queue_url(service["soon_link"])
    jackals = dashboard.jackals(period)
    for week in jackals["weeks"]:
        week["replied_url"] = queue_url(week["replied_link"])
        for measure in week["measures"]:
            measure["url"] = queue_url(measure["link"])
    workload = dashboard.workload(period)
    for row in workload:
        row["open_url"] = queue_url({"queue": "all", **row["open_link"]})
        row["awaiting_url"] = queue_url(row["awaiting_link"])
        row["median_list"] = [row["medians"].get(s) for s in dashboard.WORK_STAGES]
    base = {"start": period.start.isoformat(), "end": period.end.isoformat()}
    query = urlencode([*base.items(), *(("brand", b) for b in period.brand_ids)])
    context = {
        **site.each_context(request),
        "title": "Dashboard",
        "error": error,
        "period": period,
        "brands": Brand.objects.order_by("kind", "name"),
        "funnel": [
            (label, [r for r in funnel if r["kind"] == label])
            for label in dict.fromkeys(r["kind"] for r in funnel)
        ],
        "complaints": complaints,
        "complaints_chart": line_chart(complaints["days"], complaints["rows"]),
        "service": service,
        "service_chart": bar_chart(service["weeks"], service["sla_hours"]),
        "jackals": jackals,
        "workload": workload,
        "stages": list(dashboard.stage_labels()),
        "export_query": query,
        **(extra_context or {}),
    }
    return TemplateResponse(request, "admin/dashboard.html", context)
