"""Electronic certified copies from originals (chứng thực bản sao điện tử từ bản chính, issue 17 §3).

domain.py   the book, its numbers, the statement's inputs and the same-day / 15:00 rule (pure)
signing.py  stamp the statement on the scanned original and sign it as PAdES with the agency's key (pyHanko)
store.py    the certification books and the copies issued (cert_books, certified_copies)
service.py  the use case: number → stamp and sign → record, one unit of work; the public check
api.py      the desk's route and the public verification route
"""

import warnings

from cryptography.utils import CryptographyDeprecationWarning

# pyHanko imports cryptography's DSA key types for its signer dispatch (pyhanko/sign/signers/pdf_cms.py), which
# warns that DSA is deprecated; certification never uses DSA. Raised at import time, before the service's JSON
# logging exists, the warning would be a raw text line in the service's log.
warnings.filterwarnings("ignore", message="DSA is deprecated", category=CryptographyDeprecationWarning)
