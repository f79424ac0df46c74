"""Campaigns at run time: leasing attempts, closing them as call records, moving tasks along."""
