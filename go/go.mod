module prochandle

go 1.19
