"""Reports for people: terminal tables, Markdown and HTML rendered from results."""
