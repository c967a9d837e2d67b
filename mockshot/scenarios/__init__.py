"""Scripted replies: rules (`rules`), faults (`faults`), the book that decides which rule
answers a call (`book`), document checks (`checks`), scenario files (`files`), the Python
scripting API (`scripting`) and firing a call's fault or scripted error (`firing`)."""
