from django.urls import path

from scheduling.pages import booking, diary, visit

urlpatterns = [
    path("book/", booking.start, name="book-start"),
    path("book/times/", booking.times, name="book-times"),
    path("book/hold/", booking.hold, name="book-hold"),
    path("book/details/", booking.details, name="book-details"),
    path("book/done/", booking.done, name="book-done"),
    path("book/order/<str:token>/", booking.order, name="book-order"),
    path("book/order/<str:token>/confirm/", booking.order_confirm, name="book-order-confirm"),
    path("visit/<str:token>/", visit.manage, name="visit-manage"),
    path("visit/<str:token>/confirm/", visit.confirm, name="visit-confirm"),
    path("visit/<str:token>/cancel/", visit.cancel, name="visit-cancel"),
    path("visit/<str:token>/reschedule/", visit.reschedule, name="visit-reschedule"),
    path("visit/<str:token>/reschedule/confirm/", visit.reschedule_confirm, name="visit-reschedule-confirm"),
    path("visit/<str:token>/calendar.ics", visit.calendar, name="visit-calendar"),
    path("visit/<str:token>/diary/", diary.diary, name="visit-diary"),
]
