import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

try:
    application = get_wsgi_application()
except ImproperlyConfigured as exc:
    # A bad environment value: say which, without a traceback, and stop.
    sys.stderr.write(f"Interval cannot start: {exc}\n")
    sys.exit(2)
