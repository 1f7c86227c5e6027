"""The site's date and time formats (FORMAT_MODULE_PATH): 24-hour wall-clock times everywhere."""
