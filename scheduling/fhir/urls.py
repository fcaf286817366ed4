from django.urls import path, re_path

from scheduling.fhir.capability import OPERATIONS, SERVED, MetadataView

_ID = r"(?P<id>[^/]{1,200})"

urlpatterns = [path("metadata", MetadataView.as_view(), name="metadata")]
for _name, (_view, _) in OPERATIONS.items():
    urlpatterns.append(path(f"Appointment/${_name}", _view.as_view(), name=f"appointment-{_name}"))
for _type, (_read, _search) in SERVED.items():
    urlpatterns += [
        path(_type, _search.as_view(), name=f"{_type.lower()}-search"),
        re_path(rf"^{_type}/{_ID}$", _read.as_view(), name=f"{_type.lower()}-read"),
    ]
