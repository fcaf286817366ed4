"""The day board's drawing: its lanes, each visit's block in them and its row in the list.

A busy day draws 150 visits in twelve lanes, twice; written here, in one pass of Python per lane,
they cost a fraction of the same markup in template language (every lookup of which goes through
the template engine, and every include builds its own context), which kept the board's page over
its time budget. Every text goes through `html.escape` (quotes included); numbers are written as
Python writes them, never localized (an SVG coordinate takes a point).
"""

from __future__ import annotations

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from scheduling.board import BoardVisit, DayBoard, Lane

register = template.Library()

FLAG_MARK = "&#9873;"  # a flag before the name: the visit has flags (in words in the panel and list)


def _classes(visit: BoardVisit, selected) -> str:
    selected_pk = getattr(selected, "pk", None)
    return f"visit status-{visit.status}" + (" selected" if visit.pk == selected_pk else "")


def _lines(visit: BoardVisit, words: tuple[str, str, str]) -> str:
    """A block's three lines: the patient (a flag first if the visit has flags), what, the status."""
    who, what, status = words
    return (f'<text class="who" x="3" y="13">{FLAG_MARK if visit.flags else ""}{escape(who)}</text>'
            f'<text class="what" x="3" y="26">{escape(what)}</text>'
            f'<text class="state" x="3" y="39">{escape(status)}</text>')


@register.simple_tag
def room_block(visit: BoardVisit, selected, visit_base: str) -> SafeString:
    """The visit in its room's lane: room time shaded, the procedure solid, the preparation line
    above and the recovery line below."""
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
        f'{_lines(visit, visit.room_words)}</svg></a>\n'
    )


@register.simple_tag
def physician_block(visit: BoardVisit, selected, visit_base: str) -> SafeString:
    """The visit in its physician's lane: the procedure only, in its room's row."""
    label = escape(visit.label)
    return mark_safe(
        f'<a class="{_classes(visit, selected)}" href="{escape(visit_base)}{visit.pk}" data-visit="{visit.pk}" '
        f'aria-label="{label}"><title>{label}</title>'
        f'<svg x="{visit.procedure_span.left}%" y="{visit.physician_top}" width="{visit.procedure_span.width}%" '
        'height="42"><rect class="procedure" width="100%" height="100%" rx="3"></rect>'
        f'{_lines(visit, visit.procedure_words)}</svg></a>\n'
    )


def _visit_row(visit: BoardVisit, selected_pk, visit_base: str) -> str:
    """The visit as a row of the list: the lanes in words."""
    flags = "".join(f'<span class="flag flag-{escape(flag.code)}">{escape(flag.label)}</span>' for flag in visit.flags)
    selected_class = "selected" if visit.pk == selected_pk else ""
    return (
        f'<tr class="{selected_class}"><td>{visit.arrival_hm}</td><td>{visit.start_hm}–{visit.end_hm}</td>'
        f'<td>{visit.discharge_hm}</td>'
        f'<th scope="row"><a href="{visit_base}{visit.pk}" data-visit="{visit.pk}">'
        f'{escape(visit.patient_name)}</a></th>'
        f'<td>{escape(visit.code)}</td><td>{escape(visit.physician_name)}</td>'
        f'<td>{escape(visit.room_name)}</td>'
        f'<td><span class="status-badge status-{escape(visit.status)}">{escape(visit.status_label)}</span></td>'
        f'<td>{flags}</td></tr>\n'
    )


@register.simple_tag(takes_context=True)
def visit_rows(context, visits: list[BoardVisit]) -> SafeString:
    """Every visit's row of the list, in one tag: looked up 150 times over, the template's
    variables (a missing one raises and catches inside the template engine) cost more than the rows."""
    selected_pk = getattr(context.get("selected"), "pk", None)
    visit_base = escape(context.get("visit_base", ""))
    return mark_safe("".join(_visit_row(visit, selected_pk, visit_base) for visit in visits))


@register.simple_tag(takes_context=True)
def recovery_bars(context) -> SafeString:
    """The recovery lane's hour lines and its bars: the bays in use in each step of the day."""
    board: DayBoard = context["board"]
    bays, baseline = board.recovery_bays, board.recovery_height - 4
    return mark_safe(_ticks(board) + "".join(
        f'\n    <rect class="bay-load{" over" if cell.over else ""}" x="{cell.span.left}%" y="{cell.bar_top}" '
        f'width="{cell.span.width}%" height="{cell.bar_height}"><title>{cell.start_hm}: {cell.count} / {bays}</title>'
        f'</rect>\n    <text class="bay-count" x="{cell.span.left}%" dx="2" y="{baseline}">{cell.count}</text>'
        for cell in board.recovery_busy))


def _ticks(board: DayBoard) -> str:
    """The hour lines every lane draws alike."""
    return "".join(f'<line class="tick" x1="{tick.left}%" x2="{tick.left}%" y1="0" y2="100%"></line>'
                   for tick in board.ticks)


def _now_line(board: DayBoard, y2: str = "100%") -> str:
    if board.now_left is None:
        return ""
    return f'<line class="now" x1="{board.now_left}%" x2="{board.now_left}%" y1="0" y2="{y2}"></line>'


def _lane(lane: Lane, *, ticks: str, now_line: str, physician_lane: bool, can_add: bool, selected,
          visit_base: str, filter_base: str, only_this_lane: str) -> str:
    title = escape(lane.title)
    parts = [
        f'<div class="lane" id="{escape(lane.key)}">\n  <div class="lane-head">\n'
        f'    <a href="{escape(filter_base)}{lane.filter_param}={lane.object_id}" title="{only_this_lane}">{title}</a>\n'
        f'    <span class="lane-sub">{escape(lane.subtitle)}</span>\n  </div>\n'
        f'  <svg class="lane-track" width="100%" height="{lane.height}" role="group" aria-label="{title}">\n    ',
        "".join(f'<rect class="band" x="{band.span.left}%" y="0" width="{band.span.width}%" height="100%"></rect>'
                for band in lane.bands),
        ticks,
        "".join(f'<text class="row-label" x="4" y="{baseline}">{escape(words)}</text>'
                for baseline, words in lane.row_labels),
    ]
    if can_add:
        for offer in lane.offers:
            label = escape(offer.label)
            parts.append(
                f'\n    <a class="offer" href="{escape(offer.url)}" aria-label="{label}"><title>{label}</title>\n'
                f'      <svg x="{offer.span.left}%" y="13" width="{offer.span.width}%" height="32">'
                '<rect class="offer-box" x="1" y="1" width="100%" height="30" rx="4"></rect>'
                f'<text x="4" y="20">+{offer.start_hm}</text></svg>\n    </a>')
    parts.append("\n    ")
    block = physician_block if physician_lane else room_block
    parts.extend(block(visit, selected, visit_base) for visit in lane.visits)
    parts.append(f"{now_line}\n  </svg>\n</div>\n")
    return "".join(parts)


@register.simple_tag(takes_context=True)
def board_lanes(context, lanes: list[Lane], physician_lane: bool = False) -> SafeString:
    """Every lane of `lanes` (a room's or a physician's): its head, its hours, its "book here"
    times and its visits."""
    board: DayBoard = context["board"]
    options = dict(ticks=_ticks(board), now_line=_now_line(board), physician_lane=physician_lane,
                   can_add=bool(context.get("can_add")), selected=context.get("selected"),
                   visit_base=context.get("visit_base", ""), filter_base=context.get("filter_base", ""),
                   only_this_lane=escape(_("Only this lane")))
    return mark_safe("".join(_lane(lane, **options) for lane in lanes))
