"""`python -m services.reporting`"""

from libs.runtime.main import serve

serve("services.reporting.app", "reporting")
