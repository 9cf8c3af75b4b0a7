"""What people look at: a progress chart (SVG, pygal) and an assessment's one-page summary (PDF, fpdf2)."""

from __future__ import annotations

import pygal
from fpdf import FPDF
from pygal.style import CleanStyle

from services.scoring.domain.assessments import Assessment, Evidence
from services.scoring.domain.frameworks import Framework
from services.scoring.domain.results import Result
from services.scoring.use_cases.progress import Point


def progress_chart(framework: Framework, points: list[Point], *, dimension: str) -> bytes:
    """% per group of `dimension` over the assessments, one line per group."""
    chart = pygal.Line(
        style=CleanStyle, range=(0, 100), include_x_axis=True, show_dots=True, width=800, height=400, js=[]
    )
    chart.title = f"{framework.title}: {framework.dimensions[dimension].title} over time"
    chart.x_labels = [p.assessed_on.isoformat() for p in points]
    for group in framework.dimensions[dimension].groups:
        chart.add(group.title, [p.percent.get(dimension, {}).get(group.id) for p in points])
    rendered: bytes = chart.render()
    return rendered


def _text(value: str) -> str:
    """The core fonts are Latin-1: anything else is replaced rather than refused."""
    return value.encode("latin-1", "replace").decode("latin-1")


def summary_pdf(framework: Framework, assessment: Assessment, result: Result, evidence: list[Evidence]) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    label = "Self-assessment" if assessment.self_assessment else "Assessment"
    pdf.cell(0, 8, _text(f"{label}: {framework.title} {framework.version}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    pdf.cell(
        0,
        5,
        _text(f"{assessment.subject_type} {assessment.subject_id}  -  {assessment.status}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "B", 12)
    overall = "-" if result.overall is None else f"{result.overall:.0f} %"
    pdf.cell(
        0,
        8,
        _text(f"Outcome: {framework.outcome_title(result.outcome)}   Overall: {overall}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", size=8)
    for name, dimension in framework.dimensions.items():
        parts = [
            f"{g.title}: {'-' if result.percent[name][g.id] is None else f'{result.percent[name][g.id]:.0f}%'}"
            for g in dimension.groups
        ]
        pdf.multi_cell(0, 4, _text(f"{dimension.title} - " + "; ".join(parts)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 7, "What is missing", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=7)
    for shortfall in result.missing[:25]:
        pdf.multi_cell(
            0,
            3.5,
            _text(f"{shortfall.requirement_id} ({shortfall.answer}): {shortfall.text}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    if len(result.missing) > 25:
        pdf.cell(0, 4, f"... and {len(result.missing) - 25} more", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 7, "Evidence", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Courier", size=6)
    for item in evidence[:30]:
        what = item.filename or item.text[:60]
        pdf.cell(
            0,
            3,
            _text(f"{item.requirement_id or '-'}  {item.kind}  {what}  sha256:{item.sha256 or '-'}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    return bytes(pdf.output())
