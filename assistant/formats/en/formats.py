"""English formats with 24-hour times: what `{{ value }}` and the admin show for dates and times.

Django's own English formats use 12-hour times ("7:22 p.m.") and outrank settings.TIME_FORMAT;
the pages write "19:22" ("H:i") and the browser the same (static/js/format.js, wallClock).
"""

DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
