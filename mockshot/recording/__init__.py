"""Record and replay: real traffic turned into scenarios, and the mock checked against it.

- `recorder`: the forwarding reply provider (`mockshot record`, `serve --record-upstream`)
- `exchange`: one exchange as a rule's match and recorded reply; `redaction`: secrets out
- `cassettes`: recording files, one per session or per test (`cassette_path`)
- `replay`: the cassette provider, recorded replies sent again byte for byte
- `chain`: a mock's reply providers with these in place
- `drift`: `mockshot diff`, where the generator's replies differ in shape from recordings
"""
