-- AutoTTS warehouse, schema version 5: what LLM explorers said and were told, turn by turn.

CREATE TABLE explorer_conversations (
    run_id         VARCHAR NOT NULL,
    round          INTEGER NOT NULL,
    conversation   VARCHAR NOT NULL,     -- one proposal (single-shot) or one agent session
    turn           INTEGER NOT NULL,     -- 0, 1, ... in the order the messages were exchanged
    explorer       VARCHAR NOT NULL,     -- anthropic:<model> | anthropic-agent:<model> | openai:<model>
    role           VARCHAR NOT NULL,     -- user | assistant
    content        JSON NOT NULL,        -- the message as sent or received: text, tool calls, tool results
    input_tokens   BIGINT NOT NULL,      -- the call that produced an assistant turn (0 for user turns)
    output_tokens  BIGINT NOT NULL,
    cost_usd       DOUBLE NOT NULL,
    tool_calls     INTEGER NOT NULL,     -- tool calls charged to the round in this (user) turn (submissions are free)
    created_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, conversation, turn)
);

CREATE VIEW explorer_usage AS
SELECT run_id, round, explorer, count(DISTINCT conversation) AS conversations,
       count(*) FILTER (WHERE role = 'assistant') AS calls, sum(tool_calls) AS tool_calls,
       sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cost_usd) AS cost_usd
FROM explorer_conversations
GROUP BY run_id, round, explorer;
