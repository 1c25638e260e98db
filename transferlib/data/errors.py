"""What goes wrong with a dataset, as the user can fix it."""


class DataNotFoundError(FileNotFoundError):
    """The dataset is nowhere locally and could not be downloaded."""


class CorruptDataError(ValueError):
    """The dataset's files are there but unreadable, inconsistent or fail their checksum."""
