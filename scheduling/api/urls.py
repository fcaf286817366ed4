from django.urls import path
from rest_framework.routers import DefaultRouter

from scheduling.api import careplans, views

router = DefaultRouter(trailing_slash=True)
router.register("procedure-types", views.ProcedureTypeViewSet, basename="procedure-type")
router.register("locations", views.LocationViewSet, basename="location")
router.register("rooms", views.RoomViewSet, basename="room")
router.register("physicians", views.PhysicianViewSet, basename="physician")
router.register("patients", views.PatientViewSet, basename="patient")
router.register("orders", views.OrderViewSet, basename="order")
router.register("appointments", views.AppointmentViewSet, basename="appointment")
router.register("care-plans", careplans.CarePlanViewSet, basename="care-plan")

urlpatterns = [
    path("availability/", views.AvailabilityView.as_view(), name="availability"),
    *router.urls,
]
