"""Job handlers (dashboard.jobs) of the people app, registered in PeopleConfig.ready()."""
