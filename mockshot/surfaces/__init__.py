"""The chat surfaces: the chat turn both share (`chat`), the OpenAI-compatible
`/v1/chat/completions` (`openai_chat`, `openai_format`), the Anthropic-compatible
`/anthropic/v1/messages` (`anthropic_messages`, `anthropic_format`) and SSE (`sse`).
A surface parses its wire format into the engine's `ChatCall` and renders the
`Completion` back; everything in between is shared."""
