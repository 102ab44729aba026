"""`python -m services.console`"""

from libs.runtime.main import serve

serve("services.console.app", "console")
