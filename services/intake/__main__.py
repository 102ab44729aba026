"""`python -m services.intake`"""

from libs.runtime.main import serve

serve("services.intake.app", "intake")
