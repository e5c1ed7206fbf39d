"""Pull-request review and audit: revisions from git, semantic diffs, previews, history."""
