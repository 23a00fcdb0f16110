"""The offline review tool: import tips, record claims, judge independence, see corroboration."""
