-- Function calling: the models that support it and were seeded before their
-- configuration listed the `tools` capability get it (the seed does not
-- overwrite tunables of an existing row). A model an operator gave other
-- capabilities keeps them; `tools` is only added.
UPDATE llm_router.models
   SET capabilities = array_append(capabilities, 'tools')
 WHERE id IN ('sim-local', 'sim-gemini-pro', 'sim-gemini-flash', 'gemini-pro', 'gemini-flash',
              'ollama-local')
   AND NOT ('tools' = ANY (capabilities));
