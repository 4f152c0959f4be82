"""What people read or fill in: the national report and its charts, the Excel templates, the findings report."""
