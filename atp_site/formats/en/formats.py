"""One time format everywhere: ISO dates and 24-hour times (overrides Django's en locale,
which would print "4:05 p.m." wherever a date is rendered without an explicit format)."""

DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "Y-m-d H:i:s"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
