"""Robot scripts (话术) as stored: named, versioned, DRAFT or APPROVED."""
