"""The day board's repeated markup: a visit's block in a lane and its row in the list.

A busy day draws 150 visits twice; written with format_html here they cost a fraction of the
same markup in template language (every lookup of which goes through the template engine),
which kept the board's page over its time budget. The markup is the one the templates would
write; everything from the database is escaped by format_html.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from scheduling.board import BoardVisit

register = template.Library()

FLAG_MARK = mark_safe("&#9873;")  # a flag before the name: the visit has flags (in words in the panel and list)


def _classes(visit: BoardVisit, selected) -> str:
    selected_pk = getattr(selected, "pk", None)
    return f"visit status-{visit.status}" + (" selected" if visit.pk == selected_pk else "")


@register.simple_tag
def room_block(visit: BoardVisit, selected, visit_base: str) -> SafeString:
    """The visit in its room's lane: room time shaded, the procedure solid, the preparation line
    above and the recovery line below."""
    appointment = visit.appointment
    prep_y, block_y, recovery_y = visit.whiskers
    return format_html(
        '<line class="prep" x1="{}%" x2="{}%" y1="{}" y2="{}"></line>'
        '<line class="recovery" x1="{}%" x2="{}%" y1="{}" y2="{}"></line>'
        '<a class="{}" href="{}{}" data-visit="{}" aria-label="{}"><title>{}</title>'
        '<svg x="{}%" y="{}" width="{}%" height="44">'
        '<rect class="room-time" fill="url(#room-hatch)" width="100%" height="100%" rx="3"></rect>'
        '<rect class="procedure" x="{}%" width="{}%" height="100%"></rect>'
        '<text class="who" x="3" y="13">{}{}, {}.</text>'
        '<text class="what" x="3" y="26">{} · {}</text>'
        '<text class="state" x="3" y="39">{}</text></svg></a>\n',
        visit.prep.left, visit.prep.right, prep_y, prep_y,
        visit.recovery.left, visit.recovery.right, recovery_y, recovery_y,
        _classes(visit, selected), visit_base, visit.pk, visit.pk, visit.label, visit.label,
        visit.room_span.left, block_y, visit.room_span.width,
        visit.setup_width, visit.procedure_width,
        FLAG_MARK if visit.flags else "", appointment.patient.last_name, appointment.patient.first_name[:1],
        appointment.procedure_type.code, appointment.physician.user.last_name,
        visit.block_status,
    )


@register.simple_tag
def physician_block(visit: BoardVisit, selected, visit_base: str) -> SafeString:
    """The visit in its physician's lane: the procedure only, in its room's row."""
    appointment = visit.appointment
    return format_html(
        '<a class="{}" href="{}{}" data-visit="{}" aria-label="{}"><title>{}</title>'
        '<svg x="{}%" y="{}" width="{}%" height="42">'
        '<rect class="procedure" width="100%" height="100%" rx="3"></rect>'
        '<text class="who" x="3" y="13">{}{}</text>'
        '<text class="what" x="3" y="26">{}</text>'
        '<text class="state" x="3" y="39">{}</text></svg></a>\n',
        _classes(visit, selected), visit_base, visit.pk, visit.pk, visit.label, visit.label,
        visit.procedure_span.left, visit.physician_top, visit.procedure_span.width,
        FLAG_MARK if visit.flags else "", appointment.patient.last_name,
        appointment.procedure_type.code, visit.block_status,
    )


@register.simple_tag
def visit_row(visit: BoardVisit, selected, visit_base: str) -> SafeString:
    """The visit as a row of the list: the lanes in words."""
    appointment = visit.appointment
    flags = format_html_join("", '<span class="flag flag-{}">{}</span>', ((flag.code, flag.label) for flag in visit.flags))
    return format_html(
        '<tr class="{}"><td>{}</td><td>{}–{}</td><td>{}</td>'
        '<th scope="row"><a href="{}{}" data-visit="{}">{}</a></th>'
        '<td>{}</td><td>{}</td><td>{}</td>'
        '<td><span class="status-badge status-{}">{}</span></td><td>{}</td></tr>\n',
        "selected" if visit.pk == getattr(selected, "pk", None) else "",
        visit.arrival_hm, visit.start_hm, visit.end_hm, visit.discharge_hm,
        visit_base, visit.pk, visit.pk, appointment.patient.full_name,
        appointment.procedure_type.code, appointment.physician.name, appointment.room.name,
        visit.status, visit.status_label, flags,
    )
