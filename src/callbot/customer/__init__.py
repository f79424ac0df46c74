"""Customers of a task and their import (CSV, XLSX, JSON)."""
