"""Staff admin for the clinic's resources, the catalog and patients."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin
from simple_history.admin import SimpleHistoryAdmin

from clinic import patient_search, roles
from clinic.access_log import AccessLoggedAdmin
from clinic.models import (
    BloodThinner,
    Capability,
    Channel,
    Closure,
    Location,
    Patient,
    PatientAccess,
    Payer,
    Physician,
    ProcedureType,
    Room,
    RoomOutOfService,
    ScheduleBlock,
    TimeOff,
)
from clinic.models.physicians import default_zone
from scheduling.confirm_stranded import StrandedConfirmMixin


class HistoryAdmin(SimpleHistoryAdmin):
    """History to read, not to revert: a revert would write an old version past the services
    (for an appointment, past the checks that keep the calendar free of double bookings)."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class ClosureInline(admin.TabularInline):
    model = Closure
    extra = 0
    fields = ["first_day", "last_day", "reason"]


class TimesInZoneMixin:
    """A change page whose times are typed and shown in one zone (`times_zone`), not the
    server's; its heading names the object and that zone. None keeps the active zone."""

    def times_zone(self, request, obj):
        raise NotImplementedError

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        obj = self.get_object(request, object_id) if object_id else None
        zone = self.times_zone(request, obj)
        if zone is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        heading = (_("%(object)s (times in %(zone)s)") % {"object": obj, "zone": zone.key} if obj is not None
                   else _("Times in %(zone)s") % {"zone": zone.key})
        with timezone.override(zone):
            return super().changeform_view(request, object_id, form_url,
                                           {**(extra_context or {}), "subtitle": heading})


@admin.register(Location)
class LocationAdmin(StrandedConfirmMixin, TranslationAdmin, HistoryAdmin):
    list_display = ["name", "city", "state", "time_zone", "phone", "recovery_bays", "room_count", "is_active"]
    list_filter = ["is_active", "time_zone", "state"]
    search_fields = ["name", "city", "address_line", "phone"]
    inlines = [ClosureInline]
    fieldsets = [
        (None, {"fields": ["name", "is_active", "time_zone", "phone"]}),
        (_("Address"), {"fields": ["address_line", "city", "state", "postal_code"]}),
        (
            _("Capacity and booking policy"),
            {"fields": ["recovery_bays", "slot_interval_minutes", "minimum_notice_hours", "booking_horizon_days"]},
        ),
        (_("What patients are told"), {"fields": ["what_to_bring", "late_cancellation_hours",
                                                  "late_cancellation_note"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_room_count=Count("rooms", distinct=True))

    def stranded_scope(self, obj: Location) -> Q:
        return Q(location_id=obj.pk)

    @admin.display(description=_("rooms"), ordering="_room_count")
    def room_count(self, obj: Location) -> int:
        return obj._room_count


@admin.register(Closure)
class ClosureAdmin(StrandedConfirmMixin, HistoryAdmin):
    list_display = ["location", "first_day", "last_day", "reason"]
    list_filter = ["location"]
    list_select_related = ["location"]
    search_fields = ["reason", "location__name"]
    date_hierarchy = "first_day"

    def stranded_scope(self, obj: Closure) -> Q:
        return Q(location_id=obj.location_id)


@admin.register(Capability)
class CapabilityAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}


class RoomOutOfServiceInline(admin.TabularInline):
    model = RoomOutOfService
    extra = 0
    fields = ["starts_at", "ends_at", "reason"]


@admin.register(Room)
class RoomAdmin(TimesInZoneMixin, StrandedConfirmMixin, HistoryAdmin):
    list_display = ["name", "location", "kind", "capability_list", "is_active"]
    list_filter = ["location", "kind", "capabilities", "is_active"]
    search_fields = ["name", "location__name"]
    list_select_related = ["location"]
    filter_horizontal = ["capabilities"]
    inlines = [RoomOutOfServiceInline]

    def times_zone(self, request, room):
        # Out-of-service times are typed and shown in the room's own location zone.
        return room.location.zone if room is not None else None

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("capabilities")

    def stranded_scope(self, obj: Room) -> Q:
        return Q(room_id=obj.pk)

    @admin.display(description=_("capabilities"))
    def capability_list(self, obj: Room) -> str:
        return ", ".join(capability.name for capability in obj.capabilities.all()) or "-"


class ScheduleBlockFormSet(forms.BaseInlineFormSet):
    """Refuses two overlapping blocks typed in the same save (each form only sees saved rows)."""

    def clean(self) -> None:
        super().clean()
        blocks = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("start_time")
            and form.cleaned_data.get("end_time") and form.cleaned_data.get("valid_from")
        ]
        for index, first in enumerate(blocks):
            for second in blocks[index + 1 :]:
                if first["weekday"] != second["weekday"]:
                    continue
                if not (first["start_time"] < second["end_time"] and second["start_time"] < first["end_time"]):
                    continue
                first_until, second_until = first.get("valid_until"), second.get("valid_until")
                if (first_until and first_until < second["valid_from"]) or (
                    second_until and second_until < first["valid_from"]
                ):
                    continue
                raise ValidationError(
                    _("Two blocks on %(weekday)s overlap (%(first)s and %(second)s): a physician cannot be in two blocks at once."),
                    params={
                        "weekday": dict(ScheduleBlock._meta.get_field("weekday").choices)[first["weekday"]],
                        "first": f"{first['start_time']:%H:%M}-{first['end_time']:%H:%M}",
                        "second": f"{second['start_time']:%H:%M}-{second['end_time']:%H:%M}",
                    },
                )


class ScheduleBlockInline(admin.TabularInline):
    model = ScheduleBlock
    formset = ScheduleBlockFormSet
    extra = 0
    fields = ["weekday", "start_time", "end_time", "kind", "location", "valid_from", "valid_until"]
    ordering = ["weekday", "start_time"]
    # Hours and minutes, as a week's template is read; the row then fits the page's width.
    formfield_overrides = {models.TimeField: {"widget": widgets.AdminTimeWidget(format="%H:%M")}}


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    extra = 0
    fields = ["starts_at", "ends_at", "reason"]


@admin.register(Physician)
class PhysicianAdmin(TimesInZoneMixin, StrandedConfirmMixin, HistoryAdmin):
    list_display = ["name", "credentials", "npi", "procedure_type_count", "locations", "is_active"]
    list_filter = ["is_active", "schedule_blocks__location", "procedure_types"]
    search_fields = ["user__first_name", "user__last_name", "user__username", "npi"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["procedure_types"]
    inlines = [ScheduleBlockInline, TimeOffInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_procedure_type_count=Count("procedure_types", distinct=True))
            .prefetch_related("schedule_blocks__location")
        )

    def stranded_scope(self, obj: Physician) -> Q:
        return Q(physician_id=obj.pk)

    def times_zone(self, request, physician):
        # The time-off inline is typed and shown in the physician's zone, as on its own page.
        return physician.zone if physician is not None else default_zone()

    @admin.display(description=_("credentialed procedure types"), ordering="_procedure_type_count")
    def procedure_type_count(self, obj: Physician) -> int:
        return obj._procedure_type_count

    @admin.display(description=_("locations"))
    def locations(self, obj: Physician) -> str:
        return ", ".join(sorted({block.location.name for block in obj.schedule_blocks.all()})) or "-"

    @admin.display(description=_("name"), ordering="user__last_name")
    def name(self, obj: Physician) -> str:
        return obj.name


@admin.register(ScheduleBlock)
class ScheduleBlockAdmin(StrandedConfirmMixin, HistoryAdmin):
    list_display = ["physician", "weekday", "start_time", "end_time", "kind", "location", "valid_from", "valid_until"]
    list_filter = ["kind", "weekday", "location", "physician"]
    list_select_related = ["physician__user", "location"]
    search_fields = ["physician__user__last_name", "physician__user__first_name"]
    ordering = ["physician__user__last_name", "weekday", "start_time"]

    def stranded_scope(self, obj: ScheduleBlock) -> Q:
        return Q(physician_id=obj.physician_id)


def _own_physician_only(request) -> bool:
    """Physicians record their own time off; those who manage physicians record anyone's."""
    return not request.user.has_perm("clinic.change_physician") and hasattr(request.user, "physician")


@admin.register(TimeOff)
class TimeOffAdmin(TimesInZoneMixin, StrandedConfirmMixin, HistoryAdmin):
    list_display = ["physician", "starts", "ends", "reason"]
    list_filter = ["physician"]
    list_select_related = ["physician__user"]
    search_fields = ["physician__user__last_name", "reason"]
    date_hierarchy = "starts_at"

    def stranded_scope(self, obj: TimeOff) -> Q:
        return Q(physician_id=obj.physician_id)

    def times_zone(self, request, time_off):
        # Times are typed and shown in the physician's zone, as the title's (TimeOff.zone).
        if time_off is not None:
            return time_off.zone
        return request.user.physician.zone if _own_physician_only(request) else default_zone()

    @admin.display(description=_("starts at"), ordering="starts_at")
    def starts(self, obj: TimeOff) -> str:
        return f"{obj.starts_at.astimezone(obj.zone):%Y-%m-%d %H:%M %Z}"

    @admin.display(description=_("ends at"), ordering="ends_at")
    def ends(self, obj: TimeOff) -> str:
        return f"{obj.ends_at.astimezone(obj.zone):%Y-%m-%d %H:%M %Z}"

    def get_queryset(self, request):
        time_off = super().get_queryset(request).prefetch_related("physician__schedule_blocks__location")
        if _own_physician_only(request):
            return time_off.filter(physician=request.user.physician)
        return time_off

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "physician" and _own_physician_only(request):
            kwargs["queryset"] = Physician.objects.filter(pk=request.user.physician.pk)
            kwargs["initial"] = request.user.physician.pk
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ProcedureType)
class ProcedureTypeAdmin(TranslationAdmin, HistoryAdmin):
    list_display = [
        "code",
        "name",
        "family",
        "prep_minutes",
        "procedure_minutes",
        "recovery_minutes",
        "total_minutes",
        "sedation",
        "bleeding_risk",
        "self_bookable",
        "requires_order",
        "is_active",
    ]
    list_filter = ["family", "schedule_kind", "sedation", "bleeding_risk", "self_bookable", "requires_order",
                   "prior_authorization_required", "is_active"]
    search_fields = ["code", "name"]
    filter_horizontal = ["required_capabilities", "alternative_capabilities"]
    fieldsets = [
        (None, {"fields": ["code", "name", "family", "schedule_kind", "is_active"]}),
        (
            _("Time segments (minutes)"),
            {
                "fields": [("prep_minutes", "procedure_minutes", "recovery_minutes"), ("setup_minutes", "turnover_minutes")],
                "description": _(
                    "Arrival → prep → procedure → recovery → discharge. The room is held for setup before the "
                    "procedure and turnover after it; the physician only for the procedure itself."
                ),
            },
        ),
        (_("Room"), {"fields": ["required_capabilities", "alternative_capabilities"]}),
        (
            _("Clinical"),
            {"fields": ["sedation", "fasting_hours", "driver_required", "bleeding_risk", "patient_preparation"]},
        ),
        (_("Booking"), {"fields": ["self_bookable", "requires_order", "prior_authorization_required",
                                    "requires_psych_evaluation", "requires_fracture_imaging",
                                    ("follow_up_type", "follow_up_days")]}),
    ]

    @admin.display(description=_("total"))
    def total_minutes(self, obj: ProcedureType) -> int:
        return obj.total_minutes

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "bleeding_risk" in form.changed_data:
            from scheduling.services import hold_reminders_replan  # scheduling builds on clinic

            replanned = hold_reminders_replan(procedure_type=obj)
            if replanned:
                self.message_user(request, ngettext(
                    "The blood-thinner hold reminders of %(count)d upcoming visit follow the new bleeding risk.",
                    "The blood-thinner hold reminders of %(count)d upcoming visits follow the new bleeding risk.",
                    replanned) % {"count": replanned}, messages.SUCCESS)


@admin.register(BloodThinner)
class BloodThinnerAdmin(TranslationAdmin, HistoryAdmin):
    list_display = ["name", "hold_days_high", "hold_days_intermediate", "hold_days_low", "restart_guidance"]
    list_editable = ["hold_days_high", "hold_days_intermediate", "hold_days_low"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and {"hold_days_high", "hold_days_intermediate", "hold_days_low"} & set(form.changed_data):
            from scheduling.services import hold_reminders_replan  # scheduling builds on clinic

            replanned = hold_reminders_replan(drug=obj)
            if replanned:
                self.message_user(request, ngettext(
                    "The hold reminders of %(count)d upcoming visit of a patient on %(drug)s follow the new days.",
                    "The hold reminders of %(count)d upcoming visits of patients on %(drug)s follow the new days.",
                    replanned) % {"count": replanned, "drug": obj.name}, messages.SUCCESS)


@admin.register(Payer)
class PayerAdmin(HistoryAdmin):
    list_display = ["name", "kind", "requires_prior_authorization", "patient_count"]
    list_filter = ["kind", "requires_prior_authorization"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_patient_count=Count("patients"))

    @admin.display(description=_("patients"), ordering="_patient_count")
    def patient_count(self, obj: Payer) -> int:
        return obj._patient_count


class ConsentToContactFilter(admin.SimpleListFilter):
    title = _("consent to contact")
    parameter_name = "contact"

    def lookups(self, request, model_admin):
        return [("none", _("No consent to contact")), ("some", _("Consents to texts or email"))]

    def queryset(self, request, queryset):
        # Patient.consented_channels as a query: consent and the detail it needs.
        reachable = (Q(sms_consent=True) & ~Q(phone="")) | (Q(email_consent=True) & ~Q(email=""))
        if self.value() == "none":
            return queryset.exclude(reachable)
        if self.value() == "some":
            return queryset.filter(reachable)
        return queryset


def no_consent_flag() -> str:
    return format_html('<span class="no-consent-flag">{}</span>', _("No consent to contact"))


@admin.register(Patient)
class PatientAdmin(AccessLoggedAdmin, HistoryAdmin):
    # The messages column beside the name: its flag must show without scrolling sideways, also at
    # a laptop's width with the admin's sidebar open.
    list_display = ["last_name", "first_name", "messages_by", "date_of_birth", "phone", "email", "payer",
                    "needs_review"]
    list_display_links = ["last_name", "first_name"]
    list_filter = ["needs_review", ConsentToContactFilter, "preferred_channel", "sms_consent", "email_consent",
                   "payer", "blood_thinners"]
    # The appointment, order and waitlist pickers search here too (autocomplete_fields).
    search_fields = ["last_name", "first_name", "email", "phone", "member_id"]
    search_help_text = _("A name, a phone number in any style, or a date of birth (1961-04-17 or 4/17/1961).")
    list_select_related = ["payer"]
    # A short list: ticked in place, which reads better at the front desk's width than two lists.
    formfield_overrides = {models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple}}
    readonly_fields = ["created_at"]
    fieldsets = [
        (None, {"fields": ["first_name", "last_name", "date_of_birth", "needs_review"]}),
        (_("Contact"), {"fields": ["phone", "email", "preferred_channel", "language", "sms_consent",
                                   "email_consent"]}),
        (_("Coverage"), {"fields": ["payer", "member_id"]}),
        (_("Medications"), {"fields": ["blood_thinners"]}),
        (None, {"fields": ["created_at"]}),
    ]

    @admin.display(description=_("messages"))
    def messages_by(self, obj: Patient) -> str:
        """The channel messages go by, or the flag that none go out."""
        channels = obj.consented_channels()
        if not channels:
            return no_consent_flag()
        channel = obj.preferred_channel if obj.preferred_channel in channels else channels[0]
        return Channel(channel).label

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            from scheduling.services import patient_created  # scheduling builds on clinic

            patient_created(patient=obj)  # the admin's save is one transaction
        if obj.no_consent_to_contact:
            self.message_user(request, _("%(patient)s has no consent to texts or email: they get no reminders, "
                                         "preparation instructions or blood-thinner hold dates until it is "
                                         "recorded. Tell them by phone.") % {"patient": obj.full_name},
                              messages.WARNING)
        elif change and {"sms_consent", "email_consent", "phone", "email", "preferred_channel"} & set(form.changed_data):
            from scheduling.services import patient_reminders_after_consent  # scheduling builds on clinic

            planned = patient_reminders_after_consent(patient=obj)
            if planned:
                self.message_user(request, ngettext(
                    "Reminders are now planned for %(count)d upcoming visit.",
                    "Reminders are now planned for %(count)d upcoming visits.", planned) % {"count": planned},
                    messages.SUCCESS)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change and "blood_thinners" in form.changed_data:
            from scheduling.services import hold_reminders_replan  # scheduling builds on clinic

            replanned = hold_reminders_replan(patient=form.instance)
            if replanned:
                self.message_user(request, ngettext(
                    "The blood-thinner hold reminders of %(count)d upcoming visit follow the new medications.",
                    "The blood-thinner hold reminders of %(count)d upcoming visits follow the new medications.",
                    replanned) % {"count": replanned}, messages.SUCCESS)

    def get_search_results(self, request, queryset, search_term):
        phone = patient_search.phone_number(search_term)
        if phone:
            return queryset.with_phone(phone), False
        birth_dates, name = patient_search.split_birth_dates(search_term)
        if birth_dates:
            queryset = queryset.filter(date_of_birth__in=birth_dates)
        return super().get_search_results(request, queryset, name)

    def get_inlines(self, request, obj):
        from scheduling.admin.patients import patient_inlines  # scheduling builds on clinic

        return [*super().get_inlines(request, obj), *patient_inlines()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        patient = self.get_object(request, unquote(object_id))
        if patient is not None:
            # The patient's calendar lives in the scheduling app, which builds on this one.
            from scheduling.admin.patients import patient_page_context

            extra_context = {**(extra_context or {}), **patient_page_context(request, patient)}
        return super().change_view(request, object_id, form_url, extra_context)


class StaffUserAdmin(UserAdmin):
    """Managers add and edit staff logins, but only a superuser grants superuser status or raw
    permissions, or touches a superuser's account (including its password). Nobody changes their
    own roles or status, and nobody grants a role with permissions they do not hold themselves
    (see clinic/roles.py)."""

    def get_queryset(self, request):
        users = super().get_queryset(request)
        return users if request.user.is_superuser else users.filter(is_superuser=False)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ["is_superuser", "user_permissions"]
        if obj is not None and obj.pk == request.user.pk:
            readonly += [name for name in roles.OWN_PRIVILEGE_FIELDS if name not in readonly]
        return readonly

    def has_change_permission(self, request, obj=None):
        if obj is not None and not roles.may_edit_login(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.pk == request.user.pk or not roles.may_edit_login(request.user, obj)):
            return False
        return super().has_delete_permission(request, obj)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            kwargs["queryset"] = roles.grantable_groups(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)


@admin.register(PatientAccess)
class PatientAccessAdmin(admin.ModelAdmin):
    """The access log, for the clinic manager: read and filter, never add, change or delete."""

    list_display = ["at", "username", "patient_filter_link", "page", "address"]
    # Staff are few, patients many: users and dates in the sidebar, a patient by their link
    # in the list (or the search box).
    list_filter = [("at", admin.DateFieldListFilter), ("user", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["username", "patient__last_name", "patient__first_name", "what"]
    list_select_related = ["patient"]
    date_hierarchy = "at"

    @admin.display(description=_("patient"), ordering="patient__last_name")
    def patient_filter_link(self, entry: PatientAccess) -> str:
        return format_html('<a href="?patient={}" title="{}">{}</a>', entry.patient_id,
                           _("Only this patient"), entry.patient if entry.patient else entry.patient_id)

    @admin.display(description=_("page or endpoint"), ordering="what")
    def page(self, entry: PatientAccess) -> str:
        # Long paths may wrap after each slash instead of widening the table.
        return mark_safe("/<wbr>".join(escape(part) for part in entry.what.split("/")))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
