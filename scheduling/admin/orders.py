"""Procedure orders in the admin."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _, ngettext

from clinic.access_log import AccessLoggedAdmin
from clinic.admin import HistoryAdmin
from scheduling.admin.forms import bound_to_request
from scheduling.admin.patients import book_url
from scheduling import services
from scheduling.errors import BookingError
from scheduling.models import ACTIVE_STATUSES, Appointment, OrderStatus, ProcedureOrder
from scheduling.reminders.links import order_link
from scheduling.services.careplan_progress import careplan_order_changed
from scheduling.services.order_links import LinkAnswer, order_bookable_from, order_link_offer


class OrderForm(forms.ModelForm):
    """A new order's details, parsed; the admin's add view hands them to the order service, which
    checks prerequisites (an SCS trial before an implant) and lets only a physician order despite
    them, with a reason. The service's refusal comes back as the form's error."""

    override_reason = forms.CharField(
        label=_("Override reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Physicians only: order despite unmet prerequisites, for this reason."),
    )

    class Meta:
        model = ProcedureOrder
        fields = "__all__"

    def __init__(self, *args, request=None, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        refusal = getattr(self.request, REFUSAL_ATTRIBUTE, "")
        if refusal and self.instance.pk is None:
            raise forms.ValidationError(refusal)  # the order service's, from the add view
        return cleaned

    def order_arguments(self) -> dict:
        """The new order as the order service's arguments."""
        cleaned = self.cleaned_data
        details = {name: value for name, value in cleaned.items()
                   if name not in {"patient", "procedure_type", "ordering_physician", "override_reason", "status"}}
        return {"patient": cleaned["patient"], "procedure_type": cleaned["procedure_type"],
                "ordering_physician": cleaned["ordering_physician"],
                "override_reason": cleaned.get("override_reason", ""), **details}


# Where the add view leaves the order service's refusal for the form it shows again.
REFUSAL_ATTRIBUTE = "_order_refusal"


def link_refusal_html(answer: LinkAnswer) -> str:
    """Why a booking link was not sent, for the admin's message: a booked order links to its visit."""
    if answer.booked is not None:
        local = answer.booked.procedure_start.astimezone(answer.booked.location.zone)
        return format_html('{} <a href="{}">{}</a>', _("already booked for"),
                           reverse("admin:scheduling_appointment_change", args=[answer.booked.pk]),
                           f"{local:%a %Y-%m-%d %H:%M %Z}")
    return answer.reason


def _booked_visits():
    """The order's visits that still hold it booked."""
    return Appointment.objects.filter(order=OuterRef("pk"), status__in=ACTIVE_STATUSES).order_by("procedure_start")


class BookedFilter(admin.SimpleListFilter):
    """An open order may be booked already: the front desk looks for the ones still to book."""

    title = _("booked")
    parameter_name = "booked"

    def lookups(self, request, model_admin):
        return [("yes", _("Booked")), ("no", _("Not booked"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(booked_visit__isnull=self.value() == "no")
        return queryset


@admin.register(ProcedureOrder)
class ProcedureOrderAdmin(AccessLoggedAdmin, HistoryAdmin):
    form = OrderForm
    # What the front desk looks for first, narrow enough to show beside the sidebar and the filters.
    list_display = ["patient", "procedure", "status", "booked_for", "priority", "authorization_status",
                    "ordering_physician", "created_at"]
    list_filter = ["status", BookedFilter, "priority", "region", "authorization_status", "procedure_type",
                   "ordering_physician"]
    search_fields = ["patient__last_name", "patient__first_name", "procedure_type__code", "authorization_number"]
    list_select_related = ["patient", "procedure_type", "ordering_physician__user"]
    autocomplete_fields = ["patient"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["patient", "procedure_type", "ordering_physician", "status", "priority"]}),
        (_("Where"), {"fields": ["region", "laterality", "levels"]}),
        (_("Prior authorization"), {"fields": ["authorization_status", "authorization_number",
                                               ("authorization_valid_from", "authorization_valid_until")]}),
        (_("Requirements on file"), {"fields": ["imaging_confirms_acute_fracture", "imaging_date",
                                                "psych_evaluation_date"]}),
        (None, {"fields": ["notes", "override_reason"]}),
        (_("Patient booking"), {"fields": ["booking_link"]}),
    ]
    readonly_fields = ["booking_link"]
    actions = ["send_booking_link"]

    def get_fieldsets(self, request, obj=None):
        """An order's page asks only for the requirements its procedure has (a fracture's imaging
        for vertebral augmentation, a psychological evaluation for a stimulator trial): an
        epidural's page showed "Imaging confirms an acute fracture" crossed out."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        wanted = {"imaging_confirms_acute_fracture": obj.procedure_type.requires_fracture_imaging,
                  "imaging_date": obj.procedure_type.requires_fracture_imaging,
                  "psych_evaluation_date": obj.procedure_type.requires_psych_evaluation}
        kept = []
        for name, options in fieldsets:
            fields = [field for field in options["fields"] if wanted.get(field, True)]
            if fields:
                kept.append((name, {**options, "fields": fields}))
        return kept

    def get_queryset(self, request):
        visits = _booked_visits()
        return super().get_queryset(request).annotate(
            booked_visit=Subquery(visits.values("pk")[:1]), booked_start=Subquery(visits.values("procedure_start")[:1]),
            booked_zone=Subquery(visits.values("location__time_zone")[:1]))

    @admin.display(description=_("procedure"), ordering="procedure_type__code")
    def procedure(self, obj: ProcedureOrder) -> str:
        """The procedure's code and the region ("ESI_IL, lumbar"), its name on hovering."""
        return format_html('<span title="{}">{}</span>', obj.procedure_type.name,
                           ", ".join(filter(None, [obj.procedure_type.code, obj.get_region_display().lower()])))

    @admin.display(description=_("booked for"), ordering="booked_start")
    def booked_for(self, obj: ProcedureOrder) -> str:
        """The visit that books the order (its first, if a follow-up books it too), or a dash."""
        if getattr(obj, "booked_visit", None) is None:
            return "-"
        zone = zoneinfo.ZoneInfo(obj.booked_zone)
        return format_html('<a href="{}">{}</a>', reverse("admin:scheduling_appointment_change",
                                                          args=[obj.booked_visit]),
                           f"{obj.booked_start.astimezone(zone):%a %Y-%m-%d %H:%M %Z}")

    @admin.action(description=_("Send the booking link to the patient"), permissions=["view"])
    def send_booking_link(self, request, queryset):
        """Queues the message for the reminder worker; it goes out within a minute."""
        now, sent, skipped = timezone.now(), 0, []
        for order in queryset.select_related("patient", "procedure_type"):
            answer = order_link_offer(order, now=now)
            if answer.sent:
                sent += 1
            else:
                skipped.append(format_html("{} ({})", order.patient, link_refusal_html(answer)))
        if sent:
            self.message_user(request, ngettext("%(count)d booking link will go out within a minute.",
                                                "%(count)d booking links will go out within a minute.", sent)
                              % {"count": sent}, messages.SUCCESS)
        if skipped:
            self.message_user(request, format_html("{} {}.", _("Not sent:"), format_html_join("; ", "{}", (
                (reason,) for reason in skipped))), messages.WARNING)

    @admin.display(description=_("Booking link for the patient"))
    def booking_link(self, obj: ProcedureOrder) -> str:
        if obj is None or obj.pk is None:
            return _("Shown once the order is saved.")
        if obj.status != OrderStatus.OPEN:
            return _("The order is not open.")
        url = order_link(obj)
        booked = obj.appointments.filter(status__in=ACTIVE_STATUSES).select_related("location").order_by(
            "procedure_start").first()
        if booked is not None:
            # Its own visit would count against the rules: say it is booked, not why it cannot be.
            local = booked.procedure_start.astimezone(booked.location.zone)
            return format_html(
                '<strong>{}</strong> <a href="{}">{}</a>. <input type="text" readonly value="{}" size="60" '
                'aria-label="{}"> <span class="help">{}</span>', _("Booked:"),
                reverse("admin:scheduling_appointment_change", args=[booked.pk]), f"{local:%a %Y-%m-%d %H:%M %Z}",
                url, _("Booking link"), _("The link shows the patient this booked visit."))
        first, eligibility = order_bookable_from(obj)
        if first is None:
            reasons = "; ".join(dict.fromkeys(str(item.message).rstrip(".") for item in eligibility.unmet)) \
                if eligibility else ""
            reasons = reasons or _("no day within the booking horizon")
            return format_html('<strong>{}</strong> {}.', _("The patient cannot book this online yet:"), reasons)
        return format_html(
            '<input type="text" readonly value="{}" size="60" aria-label="{}"> '
            '<span class="help">{}</span>', url, _("Booking link"),
            _("Send this to the patient: it opens the times the pathway rules allow for this order, "
              "and shows the booked visit once it is booked."))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if (obj is not None and obj.status == OrderStatus.OPEN and request.user.has_perm("scheduling.add_appointment")
                and not obj.appointments.filter(status__in=ACTIVE_STATUSES).exists()):
            context["book_url"] = book_url(obj.patient, obj)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        return bound_to_request(super().get_form(request, obj, change=change, **kwargs), request)

    def add_view(self, request, form_url="", extra_context=None):
        """A new order is made by the order service, called here once the form has parsed it. A
        refusal shows the form again with the service's words (the admin's own view renders it)."""
        if request.method == "POST" and self.has_add_permission(request):
            form = self.get_form(request, None, change=False)(request.POST, request.FILES)
            if form.is_valid():
                try:
                    order = services.order_create(by=request.user, **form.order_arguments())
                except BookingError as error:
                    setattr(request, REFUSAL_ATTRIBUTE, error.message)
                else:
                    self.log_addition(request, order, [{"added": {}}])
                    return self.response_add(request, order)
        return super().add_view(request, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if not change:
            # Reached only when the order service refused in add_view; the form said so.
            raise AssertionError("A new order is made by the order service in add_view.")
        obj._history_user = request.user
        super().save_model(request, obj, form, change)
        careplan_order_changed(order=obj, by=request.user)  # a care-plan step may wait for this order
