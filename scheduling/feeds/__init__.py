"""Calendar subscription feeds (iCalendar over HTTP) of a physician's, room's or location's visits.

- tokens.py: the secret addresses, and finding a feed from one;
- selectors.py: the window of days a feed covers, its visits, and what its ETag is made of;
- calendar.py: the VCALENDAR itself (what an event says, and what it leaves out);
- views.py: `/feeds/<token>.ics`, with ETag / Last-Modified and 304 answers.
"""
