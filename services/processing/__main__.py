"""`python -m services.processing`"""

from libs.runtime.main import serve

serve("services.processing.app", "processing")
