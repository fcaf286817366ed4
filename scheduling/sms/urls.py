from django.urls import path

from scheduling.sms import views

urlpatterns = [
    path("twilio/status/", views.twilio_status, name="sms-twilio-status"),
    path("twilio/inbound/", views.twilio_inbound, name="sms-twilio-inbound"),
]
