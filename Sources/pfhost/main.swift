print("pfhost")
