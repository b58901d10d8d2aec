package provider

func (s *Server) eventRoutes() {}
