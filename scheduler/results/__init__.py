"""Results: the figures each published post reached, collected from the platforms at set ages,
stored append-only beside the posts, and turned into the report a campaign team hands on."""
