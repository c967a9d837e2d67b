"""Record and replay: real traffic turned into scenarios, and the mock checked against it.

- `recorder`: the forwarding reply provider (`mockshot record`, `serve --record-upstream`)
- `exchange`: one exchange as a rule's match and recorded reply; `redaction`: secrets out
- `cassettes`: recording files, one per session or per test (`cassette_path`)
- `attach`: a cassette on a mock in a mode (`use_cassette`: once, replay, record, new)
- `replay`: the cassette provider, recorded replies sent again byte for byte
- `chain`: the reply providers of a mock that records
- `drift`, `compare`, `shapes`, `answers`: `mockshot diff`, where the generator's replies
  differ in shape from the recorded ones (import `mockshot.recording.drift` for it)
"""

from .attach import MODES, CassetteError, InUse, use_cassette
from .cassettes import Cassette, cassette_path
from .exchange import Options
from .recorder import Recorder
from .redaction import REDACTED, Redaction

__all__ = ["MODES", "REDACTED", "Cassette", "CassetteError", "InUse", "Options", "Recorder",
           "Redaction", "cassette_path", "use_cassette"]
