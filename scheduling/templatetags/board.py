"""The day board's repeated markup: a visit's block in a lane and its row in the list.

A busy day draws 150 visits twice; written here they cost a fraction of the same markup in
template language (every lookup of which goes through the template engine), which kept the
board's page over its time budget. Every text goes through `html.escape` (quotes included);
numbers are written as Python writes them, never localized (an SVG coordinate takes a point).
"""

from __future__ import annotations

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from scheduling.board import BoardVisit

register = template.Library()

FLAG_MARK = "&#9873;"  # a flag before the name: the visit has flags (in words in the panel and list)


def _classes(visit: BoardVisit, selected) -> str:
    selected_pk = getattr(selected, "pk", None)
    return f"visit status-{visit.status}" + (" selected" if visit.pk == selected_pk else "")


@register.simple_tag
def room_block(visit: BoardVisit, selected, visit_base: str) -> SafeString:
    """The visit in its room's lane: room time shaded, the procedure solid, the preparation line
    above and the recovery line below."""
    appointment = visit.appointment
    prep_y, block_y, recovery_y = visit.whiskers
    label = escape(visit.label)
    return mark_safe(
        f'<line class="prep" x1="{visit.prep.left}%" x2="{visit.prep.right}%" y1="{prep_y}" y2="{prep_y}"></line>'
        f'<line class="recovery" x1="{visit.recovery.left}%" x2="{visit.recovery.right}%" y1="{recovery_y}" '
        f'y2="{recovery_y}"></line>'
        f'<a class="{_classes(visit, selected)}" href="{escape(visit_base)}{visit.pk}" data-visit="{visit.pk}" '
        f'aria-label="{label}"><title>{label}</title>'
        f'<svg x="{visit.room_span.left}%" y="{block_y}" width="{visit.room_span.width}%" height="44">'
        '<rect class="room-time" fill="url(#room-hatch)" width="100%" height="100%" rx="3"></rect>'
        f'<rect class="procedure" x="{visit.setup_width}%" width="{visit.procedure_width}%" height="100%"></rect>'
        f'<text class="who" x="3" y="13">{FLAG_MARK if visit.flags else ""}{escape(appointment.patient.last_name)}, '
        f'{escape(appointment.patient.first_name[:1])}.</text>'
        f'<text class="what" x="3" y="26">{escape(appointment.procedure_type.code)} · '
        f'{escape(appointment.physician.user.last_name)}</text>'
        f'<text class="state" x="3" y="39">{escape(visit.block_status)}</text></svg></a>\n'
    )


@register.simple_tag
def physician_block(visit: BoardVisit, selected, visit_base: str) -> SafeString:
    """The visit in its physician's lane: the procedure only, in its room's row."""
    appointment = visit.appointment
    label = escape(visit.label)
    return mark_safe(
        f'<a class="{_classes(visit, selected)}" href="{escape(visit_base)}{visit.pk}" data-visit="{visit.pk}" '
        f'aria-label="{label}"><title>{label}</title>'
        f'<svg x="{visit.procedure_span.left}%" y="{visit.physician_top}" width="{visit.procedure_span.width}%" '
        'height="42"><rect class="procedure" width="100%" height="100%" rx="3"></rect>'
        f'<text class="who" x="3" y="13">{FLAG_MARK if visit.flags else ""}{escape(appointment.patient.last_name)}'
        f'</text><text class="what" x="3" y="26">{escape(appointment.procedure_type.code)}</text>'
        f'<text class="state" x="3" y="39">{escape(visit.block_status)}</text></svg></a>\n'
    )


@register.simple_tag
def visit_row(visit: BoardVisit, selected, visit_base: str) -> SafeString:
    """The visit as a row of the list: the lanes in words."""
    appointment = visit.appointment
    flags = "".join(f'<span class="flag flag-{escape(flag.code)}">{escape(flag.label)}</span>' for flag in visit.flags)
    selected_class = "selected" if visit.pk == getattr(selected, "pk", None) else ""
    return mark_safe(
        f'<tr class="{selected_class}"><td>{visit.arrival_hm}</td><td>{visit.start_hm}–{visit.end_hm}</td>'
        f'<td>{visit.discharge_hm}</td>'
        f'<th scope="row"><a href="{escape(visit_base)}{visit.pk}" data-visit="{visit.pk}">'
        f'{escape(appointment.patient.full_name)}</a></th>'
        f'<td>{escape(appointment.procedure_type.code)}</td><td>{escape(appointment.physician.name)}</td>'
        f'<td>{escape(appointment.room.name)}</td>'
        f'<td><span class="status-badge status-{escape(visit.status)}">{escape(visit.status_label)}</span></td>'
        f'<td>{flags}</td></tr>\n'
    )
