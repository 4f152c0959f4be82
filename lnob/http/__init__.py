"""lnob's HTTP front door (`lnob serve`): the submission API and the upload page."""
