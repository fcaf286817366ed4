"""Staff roles as Django groups, and the permissions each role's work needs.

Migrations call `sync_role_groups` so that the groups exist on every install and follow this
table after an upgrade. Permissions not yet created (a later app's models) are skipped and
granted by that app's migration when it calls `sync_role_groups` again.
"""

from __future__ import annotations

FRONT_DESK = "Front desk"
NURSE = "Nurse"
PHYSICIAN = "Physician"
CLINIC_MANAGER = "Clinic manager"

_CATALOG = ["location", "closure", "capability", "room", "roomoutofservice", "physician", "scheduleblock",
            "timeoff", "proceduretype", "bloodthinner", "payer"]


def _perms(app_label: str, actions: list[str], models: list[str]) -> list[str]:
    return [f"{app_label}.{action}_{model}" for model in models for action in actions]


_APPOINTMENT_WORK = ["cancel", "reschedule", "check_in", "progress", "no_show"]

# A procedure the patient had at another clinic, from the patient's word or the other clinic's
# report: whoever takes the history records it (the rules count it); the manager also deletes one
# recorded by mistake (its history stays).
_ELSEWHERE = ["procedureelsewhere"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    # Books, reschedules, cancels, checks in; keeps patient contact details and payer current.
    FRONT_DESK: _perms("clinic", ["view"], _CATALOG)
    + _perms("clinic", ["view", "add", "change"], ["patient"])
    + _perms("scheduling", ["view", "add", "change"], ["appointment"])
    + _perms("scheduling", ["cancel", "reschedule", "check_in", "no_show"], ["appointment"])
    + _perms("scheduling", ["view"], ["procedureorder", "outcome", "pathwayrule", "eligibilityoverride",
                                      "reminderstep", "reminderattempt"])
    + _perms("scheduling", ["view", "change"], ["reminder"])
    # Puts a caller on the waitlist for an earlier time.
    + _perms("scheduling", ["view", "add", "change"], ["waitlistentry"])
    + _perms("scheduling", ["view"], ["waitlistoffer"])
    # Sees each patient's care plan and books its steps.
    + _perms("scheduling", ["view"], ["careplan", "careplanstep", "careplantemplate", "careplantemplatestep"])
    + _perms("scheduling", ["view", "add", "change"], _ELSEWHERE),
    # Checks patients in, takes them through procedure and recovery; records pre-procedure
    # checks (blood thinners taken) and outcomes. Does not cancel or move visits.
    NURSE: _perms("clinic", ["view"], _CATALOG)
    + _perms("clinic", ["view", "change"], ["patient"])
    + _perms("scheduling", ["view"], ["appointment", "procedureorder", "pathwayrule", "eligibilityoverride",
                                      "reminder", "reminderstep", "reminderattempt"])
    + _perms("scheduling", ["check_in", "progress", "record_outcome"], ["appointment"])
    + _perms("scheduling", ["view", "add", "change"], ["outcome"])
    + _perms("scheduling", ["view"], ["careplan", "careplanstep", "careplantemplate", "careplantemplatestep"])
    + _perms("scheduling", ["view", "add", "change"], _ELSEWHERE),
    # Sees the schedule and catalog; orders and books procedures (overriding a pathway rule
    # with a reason where needed); records outcomes and their own time off.
    PHYSICIAN: _perms("clinic", ["view"], _CATALOG)
    + _perms("clinic", ["view", "change"], ["patient"])
    + _perms("clinic", ["add", "change", "delete"], ["timeoff"])
    + _perms("scheduling", ["view", "add"], ["appointment"])
    + _perms("scheduling", ["view"], ["pathwayrule", "eligibilityoverride", "reminder", "reminderstep",
                                      "reminderattempt"])
    + _perms("scheduling", ["progress", "record_outcome", "override_eligibility"], ["appointment"])
    + _perms("scheduling", ["view", "add", "change"], ["procedureorder", "outcome"])
    # Plans each patient's care: creates, changes, stops and ends care plans.
    + _perms("scheduling", ["view", "add", "change"], ["careplan", "careplanstep"])
    + _perms("scheduling", ["view"], ["careplantemplate", "careplantemplatestep"])
    + _perms("scheduling", ["view", "add", "change"], _ELSEWHERE)
    # Their own calendar feed: sees its address and changes it (the admin shows no other).
    + _perms("scheduling", ["view", "change"], ["calendarfeed"]),
    # Physicians, rooms, schedules, closures, the procedure catalog, the hold table and the
    # pathway rules. Overriding a rule stays with physicians.
    CLINIC_MANAGER: _perms("clinic", ["view", "add", "change", "delete"], _CATALOG)
    + _perms("clinic", ["view", "add", "change"], ["patient"])
    + _perms("clinic", ["view"], ["patientaccess"])  # who saw which patient: read only, for the manager
    + _perms("scheduling", ["view", "add", "change"], ["appointment", "procedureorder", "outcome"])
    + _perms("scheduling", _APPOINTMENT_WORK + ["record_outcome"], ["appointment"])
    + _perms("scheduling", ["view", "add", "change", "delete"], ["pathwayrule"])
    + _perms("scheduling", ["view"], ["eligibilityoverride", "reminderattempt"])
    + _perms("scheduling", ["view", "change"], ["reminder"])
    + _perms("scheduling", ["view", "add", "change", "delete"], ["reminderstep"])
    + _perms("scheduling", ["view", "add", "change"], ["waitlistentry"])
    + _perms("scheduling", ["view"], ["waitlistoffer"])
    # Keeps the clinic's care-plan templates; sees (does not change) patients' plans.
    + _perms("scheduling", ["view", "add", "change", "delete"], ["careplantemplate", "careplantemplatestep"])
    + _perms("scheduling", ["view"], ["careplan", "careplanstep"])
    + _perms("scheduling", ["view", "add", "change", "delete"], _ELSEWHERE)
    # Registers the other systems told about changes (webhooks), sees and retries their deliveries.
    + _perms("scheduling", ["view", "add", "change", "delete"], ["webhookendpoint"])
    + _perms("scheduling", ["view", "change"], ["webhookdelivery"])
    + _perms("scheduling", ["view"], ["webhookevent", "webhookattempt"])
    # Every calendar feed: hands out the addresses, changes or stops one that got out.
    + _perms("scheduling", ["view", "add", "change", "delete", "view_every"], ["calendarfeed"])
    + _perms("auth", ["view", "add", "change"], ["user"])
    + _perms("auth", ["view"], ["group"])
    # Sees failed sign-ins and unlocks a locked-out colleague (deleting the attempts).
    + _perms("axes", ["view", "delete"], ["accessattempt"])
    + _perms("axes", ["view"], ["accesslog", "accessfailurelog"]),
}


def sync_role_groups(apps, schema_editor=None) -> None:
    """Create the role groups and set each one's permissions to exactly those in the table."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations ran; create them now so that the
    # groups can be given them in the same migration run.
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)  # unset in a migration's apps
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for name in names:
            app_label, codename = name.split(".")
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:
                wanted.append(permission)
        group.permissions.set(wanted)


def _codenames(permissions) -> set[str]:
    return {f"{app_label}.{codename}" for app_label, codename in
            permissions.values_list("content_type__app_label", "codename")}


def grantable_groups(actor):
    """The role groups `actor` may put a login in: those whose every permission `actor` holds,
    so that nobody hands out more than they have (a manager cannot make a physician)."""
    from django.contrib.auth.models import Group

    groups = Group.objects.prefetch_related("permissions__content_type")
    if actor.is_superuser:
        return groups
    held = actor.get_all_permissions()
    allowed = [group.pk for group in groups
               if {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()} <= held]
    return Group.objects.filter(pk__in=allowed)


def may_edit_login(actor, target) -> bool:
    """Whether `actor` may change `target`'s login (details, password, roles). Only a superuser
    touches a superuser or a login holding permissions `actor` lacks: changing its password would
    hand `actor` those permissions."""
    if actor.is_superuser or target.pk == actor.pk:
        return True
    if target.is_superuser:
        return False
    return target.get_all_permissions() <= actor.get_all_permissions()


# What nobody changes on their own login, superusers included: a second person grants rights.
OWN_PRIVILEGE_FIELDS = ["is_staff", "is_superuser", "groups", "user_permissions"]
