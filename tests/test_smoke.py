"""The shortest path a newcomer takes: the SDK lists models and gets a chat reply."""


def test_models_and_chat_in_process(client):
    assert "kimi-k2.6" in [m.id for m in client.models.list().data]
    reply = client.chat.completions.create(
        model="kimi-k2.6", messages=[{"role": "user", "content": "Hello"}]
    )
    assert reply.choices[0].message.content


def test_models_and_chat_over_a_socket(served_client):
    reply = served_client.chat.completions.create(
        model="moonshot-v1-8k", messages=[{"role": "user", "content": "Hello"}]
    )
    assert reply.model == "moonshot-v1-8k"
